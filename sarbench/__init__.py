"""sarbench: evaluation harness for vision-language models on SAR imagery."""

__version__ = "0.1.0"
PROTOCOL = "sarchat-v1"
