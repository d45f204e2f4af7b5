"""Data: image I/O, bicubic resizing, folders of faces, and the procedural
SynthFaces world with its known-truth "in the wild" degradations."""
from selfsr_edu.data.datasets import FaceFolder
from selfsr_edu.data.io import load_image, save_image
from selfsr_edu.data.resize import bicubic_pil, imresize

__all__ = ["FaceFolder", "load_image", "save_image", "bicubic_pil", "imresize"]
