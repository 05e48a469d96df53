"""TerraSense: remote-sensing datasets to TS-Instruct conversations for Qwen-VL fine-tuning."""

__version__ = "0.1.0"
