"""PyTorch and numpy core of the playground. Never imports streamlit."""
