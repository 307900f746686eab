"""Streamlit dashboard over the results folder: loaders and shapers (pandas) apart from the page wiring (Streamlit)."""
