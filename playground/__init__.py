"""The Streamlit side that pages share: controls, charts, the live panel, state."""
