"""Sydney scene classification (the 613 patches also captioned by Sydney-Captions)."""

from __future__ import annotations

from pathlib import Path

from data_converters.families.classification import ClassificationFolderConverter


class Sydney(ClassificationFolderConverter):
    """Sydney: 613 scene patches of one large Google Earth image of Sydney, 7 classes.

    Homepage: https://github.com/201528014227051/RSICD_optimal (its README links the downloads of Sydney-Captions)

    Dataset features:
        * 613 RGB patches of 500x500 pixels cut from one 18,000x14,000 image of Sydney, Australia, at 0.5 m
        * 7 scene classes
        * the same 613 images are captioned by Sydney-Captions (converter ``sydney_captions``): never train on one
          and test on the other

    Dataset format:
        * one folder per class holding the patches (TIFF in the caption release; any of JPEG/PNG/TIFF/BMP is read)
        * no standard class-folder release was found while writing this converter (UNCONFIRMED): this converter
          reads the usual scene-classification layout, with folder names matched case-insensitively (spaces,
          hyphens and underscores alike); the class always comes from the folder

    On disk::

        <root>/
          Sydney/                   (or the class folders directly under <root>)
            residential/1.tif ...
            airport/...
            ...
            runway/...

    Classes (0-based index = position in :attr:`classes`): 0 residential, 1 airport, 2 meadow, 3 river, 4 ocean,
    5 industrial, 6 runway.

    Splits:
        There is no official split for classification. A seeded hash (salt ``terrasense-split-v1``) of
        ``<canonical class>/<lower-case file name>`` assigns each image to train/val/test (60/20/20), the same for
        every copy of the dataset.

    License:
        Research use; cite the paper (UNCONFIRMED terms).

    Citation:
        F. Zhang, B. Du, L. Zhang, "Saliency-Guided Unsupervised Feature Learning for Scene Classification",
        IEEE TGRS 53(4), 2015. https://doi.org/10.1109/TGRS.2014.2357078
    """

    name = "sydney"
    title = "Sydney (scene classification)"
    homepage = "https://github.com/201528014227051/RSICD_optimal"
    license = "research use; cite Zhang et al., TGRS 2015 (terms UNCONFIRMED)"
    layout = "Sydney/<class>/<n>.tif (class from the folder; hashed 60/20/20 split)"
    image_dirs = ("Sydney", ".")
    classes = ("residential", "airport", "meadow", "river", "ocean", "industrial", "runway")

    def split_key(self, path: Path) -> str:
        """``<canonical class>/<lower-case file name>``: the same for every copy of the dataset."""
        return f"{self.class_of(path.parent.name) or path.parent.name.lower()}/{path.name.lower()}"
