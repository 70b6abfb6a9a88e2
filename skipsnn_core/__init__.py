"""SkipSNN core: the model, its trace, temporal noise, metrics, data and training. No Streamlit here."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import default_device
from .model import GateMode, InferenceOptions, Readout, SkipSNN, SkipSNNConfig, Trace, pulse_train
from .neurons import LIFParams, LIFState, lif_step, spike
from .noise import NoisySample, TemporalNoise, embed_in_noise

__all__ = [
    "CheckpointError", "GateMode", "InferenceOptions", "LIFParams", "LIFState", "NoisySample", "Readout",
    "SkipSNN", "SkipSNNConfig", "TemporalNoise", "Trace", "default_device", "embed_in_noise", "lif_step",
    "load_checkpoint", "pulse_train", "save_checkpoint", "spike",
]
