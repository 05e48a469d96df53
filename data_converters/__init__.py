"""Dataset converters: one module per public dataset, registered here explicitly, in catalogue order."""

from __future__ import annotations

from data_converters.base import Converter
from data_converters.dior import DIOR, DIORR
from data_converters.dota import DOTA
from data_converters.nwpu_resisc45 import NWPURESISC45
from data_converters.nwpu_vhr10 import NWPUVHR10
from data_converters.registry import get_converter, list_converters, register_converter

register_converter(DOTA)
register_converter(DIOR)
register_converter(DIORR)
register_converter(NWPUVHR10)
register_converter(NWPURESISC45)

__all__ = ["Converter", "get_converter", "list_converters", "register_converter"]
