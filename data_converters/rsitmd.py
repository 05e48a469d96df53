"""RSITMD image captioning (and its fine-grained keywords)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from data_converters.families.caption import KarpathyCaptionConverter

_CLASS_PREFIX = re.compile(r"^([A-Za-z]+)_\d+$")


class RSITMD(KarpathyCaptionConverter):
    """RSITMD: Remote Sensing Image-Text Match Dataset.

    Homepage: https://github.com/xiaoyuan1996/AMFMN/tree/master/RSITMD

    Dataset features:
        * 4,743 RGB TIFF images of 256x256 pixels in 32 scene classes
        * 5 captions per image and 1-5 fine-grained keywords per image

    Dataset format:
        * ``dataset_RSITMD.json`` in the Karpathy caption format (``images[].filename``, ``split``,
          ``sentences[].raw``); the keyword list is read from ``keywords`` (or ``keyword``; the key name is
          UNCONFIRMED) and kept in ``annotations.extra["keywords"]``
        * older copies contain blank sentences (the authors corrected four samples on 2021-10-28): blank captions are
          dropped and reported, the image is kept with the others
        * file names are ``<class>_<n>.tif`` (``baseballfield_452.tif``); the prefix is kept in
          ``annotations.extra["class"]``; images are re-encoded to PNG

    On disk::

        <root>/
          RSITMD/                   (or the content directly under <root>)
            dataset_RSITMD.json
            images/baseballfield_452.tif ...
            rsitmd_api.py

    Classes: the file-name prefixes (the paper counts 32 classes), e.g. airport, bareland, baseballfield, beach,
    boat, bridge, center, church, commercial, denseresidential, ..., storagetanks, viaduct; information only.

    Splits:
        The ``split`` field, which holds only ``train`` (4,291 images) and ``test`` (452): there is no val split.

    License:
        Research use; cite the paper (UNCONFIRMED terms).

    Citation:
        Z. Yuan et al., "Exploring a Fine-Grained Multiscale Method for Cross-Modal Remote Sensing Image Retrieval",
        IEEE TGRS 60, 2022. https://doi.org/10.1109/TGRS.2021.3078451
    """

    name = "rsitmd"
    title = "RSITMD"
    homepage = "https://github.com/xiaoyuan1996/AMFMN/tree/master/RSITMD"
    license = "research use; cite Yuan et al., TGRS 2022 (terms UNCONFIRMED)"
    layout = "RSITMD/dataset_RSITMD.json (Karpathy, train/test) + RSITMD/images/<class>_<n>.tif"
    splits = ("train", "test")
    json_files = ("RSITMD/dataset_RSITMD.json", "dataset_RSITMD.json")
    image_dirs = ("RSITMD/images", "images")

    def entry_extra(self, item: dict[str, Any], filename: str) -> dict[str, Any]:
        """The keyword list (cleaned, order kept) and the class prefix of the file name."""
        out: dict[str, Any] = {}
        m = _CLASS_PREFIX.match(PurePosixPath(filename).stem)
        if m:
            out["class"] = m.group(1).lower()
        raw = item.get("keywords", item.get("keyword"))
        if isinstance(raw, str):
            raw = [raw]
        if isinstance(raw, list):
            words = [" ".join(str(k).split()) for k in raw]
            if any(words):
                out["keywords"] = [w for w in words if w]
        return out
