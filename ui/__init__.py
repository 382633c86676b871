"""Streamlit UI: the only package that imports streamlit. Pages render what the core returns."""
