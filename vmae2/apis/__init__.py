"""vmae2.apis: build a recognizer from a config and a checkpoint, classify a video."""
from .inference import inference_recognizer, init_recognizer, top_k

__all__ = ['init_recognizer', 'inference_recognizer', 'top_k']
