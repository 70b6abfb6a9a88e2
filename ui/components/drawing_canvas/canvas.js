// A small canvas to draw a digit with the mouse (or a finger). "Use this drawing" sends the ink as a
// 32x32 grid of values 0..1 to Python, which turns it into events (skipsnn_core/drawing.py).

const SIZE = 256, GRID = 32;

export default function (component) {
  const { parentElement, setStateValue } = component;
  if (parentElement.__drawing) return;
  const root = document.createElement("div");
  root.className = "skipsnn-draw";
  root.innerHTML = `<canvas width="${SIZE}" height="${SIZE}" aria-label="drawing canvas"></canvas>
    <div><button type="button" data-act="use">Use this drawing</button> <button type="button" data-act="clear">Clear</button></div>`;
  parentElement.appendChild(root);
  parentElement.__drawing = true;
  const canvas = root.querySelector("canvas"), ctx = canvas.getContext("2d");
  const clear = () => { ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, SIZE, SIZE); };
  clear();
  ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#000000";
  let drawing = false;
  const at = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * SIZE / r.width, (e.clientY - r.top) * SIZE / r.height]; };
  canvas.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", (e) => { if (drawing) { ctx.lineTo(...at(e)); ctx.stroke(); } });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  root.addEventListener("click", (e) => {
    const act = e.target.closest("button") && e.target.closest("button").dataset.act;
    if (act === "clear") clear(); // the drawing last used stays in use until the next "Use this drawing"
    if (act === "use") {
      const px = ctx.getImageData(0, 0, SIZE, SIZE).data, cell = SIZE / GRID, grid = [];
      for (let gy = 0; gy < GRID; gy++) {
        const row = [];
        for (let gx = 0; gx < GRID; gx++) {
          let ink = 0;
          for (let y = gy * cell; y < (gy + 1) * cell; y++)
            for (let x = gx * cell; x < (gx + 1) * cell; x++) ink += 255 - px[(y * SIZE + x) * 4];
          row.push(Math.round((ink / (cell * cell * 255)) * 1000) / 1000);
        }
        grid.push(row);
      }
      setStateValue("drawing", grid);
    }
  });
}
