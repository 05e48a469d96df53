"""WHU-RS19 scene classification."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from data_converters.base import safe_key
from data_converters.families.classification import ClassificationFolderConverter


class WHURS19(ClassificationFolderConverter):
    """WHU-RS19: 19 high-resolution satellite scene classes from Google Earth.

    Homepage: https://captain-whu.github.io/BED4RS/

    Dataset features:
        * 1,005 RGB JPEG images of 600x600 pixels, about 50 per class
        * 19 scene classes, up to 0.5 m ground sample distance
        * images from Google Earth

    Dataset format:
        * one folder per class holding JPEG files; file-name separators are inconsistent across classes
          (``airport_01.jpg`` but ``beach-01.jpg``), and some files carry another class's prefix, so the class always
          comes from the **folder**, never from the file name
        * folder spelling varies between copies (``Airport`` vs ``airport``, ``footballField``, ``railwayStation``);
          folders are matched case-insensitively, and the camel-case ones through :attr:`class_aliases`
          (``footballfield`` → ``football_field``, ``railwaystation`` → ``railway_station``)
        * sample keys are ``<class>__<file stem>`` (``park__parking_03``): a file name alone may name another class

    On disk::

        <root>/
          WHU-RS19/                 (or the class folders directly under <root>)
            Airport/airport_01.jpg ...
            Beach/beach-01.jpg ...
            footballField/...
            ...
            Viaduct/...

    Classes (0-based index = position in :attr:`classes`): 0 airport, 1 beach, 2 bridge, 3 commercial, 4 desert,
    5 farmland, 6 football_field, 7 forest, 8 industrial, 9 meadow, 10 mountain, 11 park, 12 parking, 13 pond,
    14 port, 15 railway_station, 16 residential, 17 river, 18 viaduct.

    Splits:
        There is no official split (torchrs loads the folder as one ImageFolder). A seeded hash
        (:func:`~data_converters.families.classification.stable_split`, salt ``terrasense-split-v1``) of
        ``<canonical class>/<lower-case file name>`` assigns each image to train/val/test (60/20/20). The key ignores
        the top folder's name and the folder's spelling, so every copy of the dataset splits the same way, and an
        image never moves when others are added or removed.

    License:
        Research use; cite the papers (terms not stated explicitly by the authors; UNCONFIRMED).

    Citation:
        G.-S. Xia, W. Yang, J. Delon, Y. Gousseau, H. Sun, H. Maître, "Structural High-resolution Satellite Image
        Indexing", ISPRS TC VII Symposium, 2010. D. Dai, W. Yang, "Satellite Image Classification via Two-Layer
        Sparse Coding With Biased Image Representation", IEEE GRSL 8(1), 2011. https://doi.org/10.1109/LGRS.2010.2055033
    """

    name = "whu_rs19"
    title = "WHU-RS19"
    homepage = "https://captain-whu.github.io/BED4RS/"
    license = "research use; cite Xia et al. 2010 and Dai & Yang, GRSL 2011"
    layout = "WHU-RS19/<Class>/<class>[_-]NN.jpg (class from the folder; hashed 60/20/20 split)"
    image_dirs = ("WHU-RS19", ".")
    classes = (
        "airport", "beach", "bridge", "commercial", "desert", "farmland", "football_field", "forest", "industrial",
        "meadow", "mountain", "park", "parking", "pond", "port", "railway_station", "residential", "river", "viaduct",
    )  # fmt: skip
    class_aliases: ClassVar[dict[str, str]] = {"footballfield": "football_field", "railwaystation": "railway_station"}

    def sample_key(self, unit: str) -> str:
        """``<canonical class>__<file stem>``: file names do not always carry their class (``Park/parking_03``)."""
        path = Path(unit)
        return safe_key(f"{self.class_of(path.parent.name) or path.parent.name}/{path.stem}")

    def split_key(self, path: Path) -> str:
        """``<canonical class>/<lower-case file name>``: the same for every copy of the dataset."""
        return f"{self.class_of(path.parent.name) or path.parent.name.lower()}/{path.name.lower()}"
