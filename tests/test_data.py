"""Built-in simulator, the real N-MNIST recordings, other layouts, and clear errors for bad data."""

import shutil

import numpy as np
import pytest
import tonic.transforms as T

from skipsnn_core.data import (
    BuiltinDigits, DataError, FrameSpec, NMNISTFolder, TonicDataset, framed, frames, open_dataset,
    read_nmnist_file,
)


@pytest.fixture(scope="module")
def digits():
    return BuiltinDigits("test")


def test_builtin_split_is_fixed_and_disjoint():
    train, test = BuiltinDigits("train"), BuiltinDigits("test")
    assert len(train) == 1437 and len(test) == 360
    assert not set(train.indices) & set(test.indices)
    assert (test.indices % 5 == 0).all()


def test_simulator_is_deterministic_and_in_bounds(digits):
    a, la = digits[3]
    b, lb = digits[3]
    assert np.array_equal(a, b) and la == lb
    assert a["x"].min() >= 0 and a["x"].max() < 34 and a["y"].min() >= 0 and a["y"].max() < 34
    assert (np.diff(a["t"]) >= 0).all(), "events are time-ordered"
    assert a["t"].max() < 300_000, "three saccades of 100 ms"


@pytest.mark.parametrize("until_us", [1, 999, 1000, 1001, 17_500, 50_000, 299_999, 10**9])
def test_simulating_up_to_a_time_gives_exactly_the_events_before_it(digits, until_us):
    """framed() asks the digits for the first 50 ms only; those events must be the whole recording's."""
    for i in (0, 7):
        whole, label = digits[i]
        head, head_label = digits.head(i, until_us)
        assert np.array_equal(head, whole[whole["t"] < until_us]) and head_label == label


def test_framing_the_digits_reads_only_the_signal_window(digits, tmp_path, monkeypatch):
    asked = []
    real = BuiltinDigits.head
    monkeypatch.setattr(BuiltinDigits, "head", lambda self, i, until: asked.append(until) or real(self, i, until))
    sub = BuiltinDigits("test")
    sub.indices = sub.indices[:3]
    data = framed(sub, FrameSpec(L=20, bin_us=500), cache_dir=tmp_path)
    assert asked == [10_000] * 3
    assert np.array_equal(data.x, np.stack([frames(digits[i][0], digits.sensor_size, FrameSpec(L=20, bin_us=500)) for i in range(3)]))


def test_simulator_polarities_present_and_balanced(digits):
    for i in range(5):
        ev, _ = digits[i]
        assert 0.35 < ev["p"].mean() < 0.65, f"sample {i}: ON share {ev['p'].mean():.2f}"


def test_simulator_event_count_comparable_to_nmnist(digits, nmnist_dir):
    sim = np.mean([(digits[i][0]["t"] < 50_000).sum() for i in range(20)])
    ds = NMNISTFolder(nmnist_dir, "test")
    real = np.mean([(ds[i][0]["t"] < 50_000).sum() for i in range(20)])
    assert 0.5 < sim / real < 2.0, f"first 50 ms: simulated {sim:.0f} vs real {real:.0f} events"


def test_simulator_events_lie_on_the_moving_digit_edges(digits):
    ev, _ = digits[0]
    img = digits.image(0)
    canvas = np.zeros((34, 34))
    big = np.kron(img / 16, np.ones((3, 3)))
    canvas[4:28, 4:28] = big
    # the region the digit sweeps over along the saccades (up to 3 px right and down), with a margin
    swept = np.zeros_like(canvas, bool)
    for dy in range(-1, 5):
        for dx in range(-1, 5):
            swept |= np.roll(np.roll(canvas > 0.1, dy, 0), dx, 1)
    inside = swept[ev["y"], ev["x"]].mean()
    assert inside > 0.95, f"only {inside:.2%} of events where the digit moves"
    assert swept.mean() < 0.7, "the test region must not be the whole sensor"


def test_tonic_transforms_accept_simulated_events(digits):
    ev, _ = digits[1]
    denoised = T.Denoise(filter_time=10_000)(ev)
    assert 0 < len(denoised) <= len(ev)
    fr = T.ToFrame(sensor_size=digits.sensor_size, n_time_bins=3)(ev)
    assert fr.shape == (3, 2, 34, 34)
    assert len(ev) - 1 <= fr.sum() <= len(ev)  # tonic's time bins may leave out the very last event


def test_frames_layout_matches_channel_formula(digits):
    ev, _ = digits[2]
    fr = frames(ev, digits.sensor_size, FrameSpec(L=50))
    assert fr.shape == (50, 2312) and set(np.unique(fr)) <= {0, 1}
    first = ev[ev["t"] < 50_000]
    expected = np.zeros_like(fr)
    expected[first["t"] // 1000, first["p"].astype(int) * 34 * 34 + first["y"] * 34 + first["x"]] = 1
    assert np.array_equal(fr, expected)


def test_real_nmnist_recordings_decode_and_frame(nmnist_dir):
    ds = NMNISTFolder(nmnist_dir, "all")
    assert len(ds) == 1000
    ev, label = ds[0]
    assert label == 5 and len(ev) == 4681  # samples/1.bs2: digit 5, 4,681 events
    assert ev["x"].max() <= 33 and ev["y"].max() <= 33 and 0.3 < ev["p"].mean() < 0.7
    fr = frames(ev, ds.sensor_size)
    first = ev[ev["t"] < 50_000]
    n_unique = len({(t // 1000, int(p), y, x) for x, y, t, p in first})
    assert fr.sum() == n_unique


def test_shared_split_rule_800_200(nmnist_dir):
    train, test = NMNISTFolder(nmnist_dir, "train"), NMNISTFolder(nmnist_dir, "test")
    assert (len(train), len(test)) == (800, 200)
    assert not set(train.files) & set(test.files)
    assert sorted(np.bincount(test.labels, minlength=10)) != [0] * 10


def test_tonic_nmnist_layout(nmnist_dir, tmp_path):
    src = NMNISTFolder(nmnist_dir, "all")
    for part, picks in (("Train", range(0, 4)), ("Test", range(4, 6))):
        for i in picks:
            dest = tmp_path / "NMNIST" / part / str(src.labels[i])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src.files[i], dest / f"{i:05d}.bin")
    train = NMNISTFolder(tmp_path, "train")
    assert len(train) == 4 and sorted(train.labels.tolist()) == sorted(src.labels[:4].tolist())
    ev, _ = train[0]
    assert len(ev) > 0


def test_framed_cache_round_trip(nmnist_dir, tmp_path):
    ds = NMNISTFolder(nmnist_dir, "test")
    ds.files, ds.labels = ds.files[:5], ds.labels[:5]
    seen = []
    first = framed(ds, cache_dir=tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5) and len(list(tmp_path.glob("*.npz"))) == 1
    again = framed(ds, cache_dir=tmp_path, progress=lambda d, t: pytest.fail("cache not used"))
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)


def test_missing_folder_names_path_and_layout(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'none'}.*labels.csv"):
        NMNISTFolder(tmp_path / "none")


def test_unknown_layout(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="unknown layout"):
        NMNISTFolder(tmp_path)


def test_bad_labels_csv(tmp_path):
    (tmp_path / "labels.csv").write_text("file,digit\na.bs2,3\n")
    with pytest.raises(DataError, match="filename,label"):
        NMNISTFolder(tmp_path)


def test_corrupt_recording_names_the_file(tmp_path):
    (tmp_path / "labels.csv").write_text("filename,label\nbad.bs2,3\n")
    (tmp_path / "bad.bs2").write_bytes(b"\x01\x02\x03")
    ds = NMNISTFolder(tmp_path, "all")
    with pytest.raises(DataError, match="bad.bs2.*not an N-MNIST recording"):
        ds[0]
    (tmp_path / "bad.bs2").unlink()
    with pytest.raises(DataError, match="bad.bs2.*cannot read"):
        read_nmnist_file(tmp_path / "bad.bs2")


def test_dvsgesture_layout_from_small_arrays(tmp_path):
    folder = tmp_path / "DVSGesture" / "ibmGestureTest" / "user24_led"
    folder.mkdir(parents=True)
    raw = np.array([[10, 20, 1, 0.5], [127, 0, 0, 12.25], [5, 5, 1, 3.0]])  # x, y, p, t (ms)
    np.save(folder / "7.npy", raw)
    ds = open_dataset("dvsgesture", tmp_path, "test")
    ev, label = ds[0]
    assert label == 7 and ds.sensor_size == (128, 128, 2)
    assert ev["t"].tolist() == [500, 3000, 12250] and ev["x"].tolist() == [10, 5, 127]
    assert frames(ev, ds.sensor_size, FrameSpec(L=20)).shape == (20, 128 * 128 * 2)


def test_shd_layout_from_small_arrays(tmp_path):
    h5py = pytest.importorskip("h5py")
    (tmp_path / "SHD").mkdir()
    with h5py.File(tmp_path / "SHD" / "shd_train.h5", "w") as f:
        vlen = h5py.vlen_dtype(np.float64)
        times = f.create_dataset("spikes/times", (2,), dtype=vlen)
        units = f.create_dataset("spikes/units", (2,), dtype=h5py.vlen_dtype(np.int64))
        times[0], units[0] = np.array([0.001, 0.0005]), np.array([3, 699])
        times[1], units[1] = np.array([0.01]), np.array([1])
        f["labels"] = np.array([4, 19])
    ds = TonicDataset("shd", tmp_path, "train")
    ev, label = ds[0]
    assert label == 4 and ev["t"].tolist() == [500, 1000] and ev["x"].tolist() == [699, 3]
    assert frames(ev, ds.sensor_size, FrameSpec(L=5)).shape == (5, 700)


def test_missing_tonic_dataset_is_clear(tmp_path):
    with pytest.raises(DataError, match="no DVS Gesture recordings"):
        open_dataset("dvsgesture", tmp_path, "train")
    with pytest.raises(DataError, match="shd_train.h5: not found"):
        open_dataset("shd", tmp_path, "train")
    with pytest.raises(DataError, match="needs a data folder"):
        open_dataset("nmnist", None)


def test_frame_store_reads_by_index_what_framed_holds_in_memory(nmnist_dir, tmp_path):
    """The on-disk store answers x[i], x[a:b], x[[i, j]] and x[-1] as the in-memory frames; it is written once
    (framed() and a second frame_store() read it back without framing), and survives pickling (DataLoader workers)."""
    import pickle

    from skipsnn_core.data import PackedFrames, frame_store

    ds = NMNISTFolder(nmnist_dir, "test")
    ds.files, ds.labels = ds.files[:7], ds.labels[:7]
    memory = framed(ds, cache_dir=tmp_path / "memory")
    store = frame_store(ds, cache_dir=tmp_path / "store")
    assert isinstance(store.x, PackedFrames) and store.x.shape == memory.x.shape and np.array_equal(store.y, memory.y)
    for index in (0, 6, -1, slice(2, 5), slice(1, 7, 3), [4, 0, 4], np.array([5, 1])):
        assert np.array_equal(store.x[index], memory.x[index]), index
    assert np.array_equal(pickle.loads(pickle.dumps(store.x))[3], memory.x[3])
    assert [p.name.endswith(".frames") for p in (tmp_path / "store").iterdir()] == [True], "one folder, no temporary"
    never = lambda d, t: pytest.fail("framed again")  # noqa: E731
    assert np.array_equal(framed(ds, cache_dir=tmp_path / "store", progress=never).x, memory.x)
    assert np.array_equal(frame_store(ds, cache_dir=tmp_path / "store", progress=never).x[:], memory.x)
    converted = frame_store(ds, cache_dir=tmp_path / "memory", progress=never)  # from framed()'s .npz, not framing
    assert np.array_equal(converted.x[:], memory.x)


def test_a_truncated_store_is_rebuilt_not_trusted(nmnist_dir, tmp_path):
    from skipsnn_core.data import frame_store

    ds = NMNISTFolder(nmnist_dir, "test")
    ds.files, ds.labels = ds.files[:3], ds.labels[:3]
    first = frame_store(ds, cache_dir=tmp_path)
    bits = next(tmp_path.glob("*.frames")) / "bits.npy"
    bits.write_bytes(bits.read_bytes()[:-10])
    again = frame_store(ds, cache_dir=tmp_path)
    assert np.array_equal(again.x[:], first.x[:]) and bits.stat().st_size > 0
