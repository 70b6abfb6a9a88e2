"""The latency floor: two sliders, a metric and four small Plotly charts, nothing else."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="trivial", layout="wide")
a = st.slider("Gate threshold", -0.5, 2.0, 0.5, 0.05, key="theta")
b = st.slider("Noise level", 0, 8, 1, key="noise")
st.metric("Sum", f"{a + b:.2f}")
x = np.arange(50, dtype=np.int32)
for col, k in zip(st.columns(4), range(4)):
    fig = go.Figure(go.Scatter(x=x, y=np.sin(x / 5 + a * k + b).astype(np.float32)))
    fig.update_layout(height=200, margin=dict(l=0, r=0, t=0, b=0), meta={"view": {"controller_theta": a}, "sample": {"noise_level": b}})
    col.plotly_chart(fig, key=f"chart{k}")
