"""Dataset converters: one module per public dataset, registered here explicitly, in catalogue order."""

from __future__ import annotations

from data_converters.base import Converter
from data_converters.capera import CapERA
from data_converters.cdd import CDD
from data_converters.dior import DIOR, DIORR
from data_converters.dota import DOTA
from data_converters.hi_ucd import HiUCD
from data_converters.inria_aerial import InriaAerial
from data_converters.levir_cd import LEVIRCD
from data_converters.lim_cd import LIMCD
from data_converters.loveda import LoveDA
from data_converters.nwpu_resisc45 import NWPURESISC45
from data_converters.nwpu_vhr10 import NWPUVHR10
from data_converters.registry import get_converter, list_converters, register_alias, register_converter
from data_converters.rsicd import RSICD
from data_converters.rsitmd import RSITMD
from data_converters.rsvg import RSVG
from data_converters.rsvqa_hr import RSVQAHR
from data_converters.rsvqa_lr import RSVQALR
from data_converters.second import SECOND
from data_converters.sydney import Sydney
from data_converters.sydney_captions import SydneyCaptions
from data_converters.whu_building import WHUBuilding
from data_converters.whu_rs19 import WHURS19

register_converter(DOTA)
register_converter(DIOR)
register_converter(DIORR)
register_converter(NWPUVHR10)
register_converter(WHUBuilding)
register_converter(InriaAerial)
register_converter(LoveDA)
register_converter(NWPURESISC45)
register_converter(Sydney)
register_converter(SydneyCaptions)
register_converter(WHURS19)
register_converter(RSICD)
register_converter(RSITMD)
register_converter(CapERA)
register_converter(RSVQAHR)
register_converter(RSVQALR)
register_converter(RSVG)
register_converter(LEVIRCD)
register_converter(CDD)
register_converter(LIMCD)
register_alias("levir_mci", LIMCD.name)
register_converter(SECOND)
register_converter(HiUCD)

__all__ = ["Converter", "get_converter", "list_converters", "register_alias", "register_converter"]
