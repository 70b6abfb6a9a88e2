"""Custom Streamlit components: JavaScript and CSS in files of their own, each with a thin typed wrapper."""
