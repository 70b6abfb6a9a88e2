
// The Streamlit host (appended to chart.js by ui/components/explorer_chart/__init__.py): Streamlit's
// components v2 call the module's default export with the component object that `draw` reads.
export default draw;
