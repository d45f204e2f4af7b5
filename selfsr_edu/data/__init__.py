"""Data: image I/O, folders of faces, and the procedural
SynthFaces world with its known-truth "in the wild" degradations."""
from selfsr_edu.data.datasets import FaceFolder
from selfsr_edu.data.io import load_image, save_image
from selfsr_edu.data.samples import sample_faces
from selfsr_edu.data.settings import PairedSynthFaces, WildSynthFaces
from selfsr_edu.data.synthfaces import SynthFaces
from selfsr_edu.data.wild import WildDegradation

__all__ = ["FaceFolder", "load_image", "save_image",
           "SynthFaces", "WildDegradation", "PairedSynthFaces", "WildSynthFaces", "sample_faces"]
