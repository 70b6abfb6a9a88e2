"""Streamlit glue shared by app.py and the pages: the sidebar selection and cached core calls."""
