"""The Gradio demo: try the PANNs animal-sound tagger on any clip in the browser.

`python demo/app.py` starts it; the modules here are small and each has one job (settings,
model picker and cache, the prediction function, per-class trust from results/, compare mode,
events of long clips, pictures, page layout, ZeroGPU wrapping).
"""
