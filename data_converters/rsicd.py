"""RSICD image captioning."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from data_converters.families.caption import KarpathyCaptionConverter

_CLASS_PREFIX = re.compile(r"^([A-Za-z]+)_\d+$")


class RSICD(KarpathyCaptionConverter):
    """RSICD: Remote Sensing Image Captioning Dataset.

    Homepage: https://github.com/201528014227051/RSICD_optimal

    Dataset features:
        * 10,921 RGB JPEG images of 224x224 pixels from Google Earth, Baidu Map, MapABC and Tianditu
        * 5 sentences per image (many images repeat sentences to reach five), 30 scene classes

    Dataset format:
        * ``dataset_rsicd.json`` in the Karpathy caption format (``images[].filename``, ``split``,
          ``sentences[].raw``/``tokens``, ``imgid``, ``sentid``); raw strings end in ``" ."`` and mix capitalisation,
          so they are tidied (:func:`~data_converters.families.caption.normalise_caption`), and repeated sentences of
          one image are kept once
        * most files are ``<class>_<n>.jpg`` with a lower-case class prefix without separators (``airport_1.jpg``,
          ``denseresidential_3.jpg``, ``storagetanks_7.jpg``), but a block of files is purely numeric (``00001.jpg``)
          with no class; the prefix, when there is one, is kept in ``annotations.extra["class"]``
        * ``txtclasses_rsicd/`` (per-class file lists, content UNCONFIRMED) is not read

    On disk::

        <root>/
          dataset_rsicd.json
          RSICD_images/
            airport_1.jpg ... 00001.jpg ...

    Classes: 30 file-name prefixes (airport, bareland, baseballfield, beach, bridge, center, church, commercial,
    denseresidential, desert, farmland, forest, industrial, meadow, mediumresidential, mountain, park, parking,
    playground, pond, port, railwaystation, resort, river, school, sparseresidential, square, stadium, storagetanks,
    viaduct); kept as information only, captioning has no class list.

    Splits:
        The ``split`` field: train 8,734, val 1,094, test 1,093 (UNCONFIRMED counts).

    License:
        Research use; cite the paper (UNCONFIRMED terms).

    Citation:
        X. Lu, B. Wang, X. Zheng, X. Li, "Exploring Models and Data for Remote Sensing Image Caption Generation",
        IEEE TGRS 56(4), 2018. https://doi.org/10.1109/TGRS.2017.2776321
    """

    name = "rsicd"
    title = "RSICD"
    homepage = "https://github.com/201528014227051/RSICD_optimal"
    license = "research use; cite Lu et al., TGRS 2018 (terms UNCONFIRMED)"
    layout = "dataset_rsicd.json (Karpathy) + RSICD_images/<class>_<n>.jpg or <nnnnn>.jpg"
    json_files = ("dataset_rsicd.json", "RSICD/dataset_rsicd.json")
    image_dirs = ("RSICD_images", "RSICD/RSICD_images")

    def entry_extra(self, item: dict[str, Any], filename: str) -> dict[str, Any]:
        """``{"class": prefix}`` for ``<class>_<n>.jpg`` files; nothing for the purely numeric ones."""
        m = _CLASS_PREFIX.match(PurePosixPath(filename).stem)
        return {"class": m.group(1).lower()} if m else {}
