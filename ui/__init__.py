"""Streamlit glue shared by app_script.py and the pages: the sidebar selection and cached core calls."""
