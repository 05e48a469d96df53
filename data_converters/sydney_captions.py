"""Sydney-Captions image captioning."""

from __future__ import annotations

from data_converters.families.caption import KarpathyCaptionConverter


class SydneyCaptions(KarpathyCaptionConverter):
    """Sydney-Captions: five sentences for each of the 613 Sydney scene patches.

    Homepage: https://github.com/201528014227051/RSICD_optimal (its README links the downloads)

    Dataset features:
        * 613 RGB images of 500x500 pixels (UNCONFIRMED size), 0.5 m, cut from one Google Earth image of Sydney
        * 3,065 captions, 5 per image; 7 scene classes (not stored in the json)
        * the same images as the Sydney scene-classification set (converter ``sydney``): never train on one and test
          on the other

    Dataset format:
        * ``dataset.json`` in the Karpathy caption format, one entry per image::

            {"images": [{"filename": "1.tif", "imgid": 0, "split": "train", "sentids": [0, 1, 2, 3, 4],
                         "sentences": [{"raw": "a residential area with houses .", "tokens": ["a", ...],
                                        "imgid": 0, "sentid": 0}, ...]}, ...], "dataset": "sydney"}

        * ``raw`` is read (``tokens`` only when ``raw`` is absent) and tidied (see
          :func:`~data_converters.families.caption.normalise_caption`)
        * the image folder is ``imgs/`` in the original archive and ``images/`` in torchrs; both are read
        * images are TIFF named by number (``1.tif`` ... ``613.tif``, UNCONFIRMED); they are re-encoded to PNG

    On disk::

        <root>/
          dataset.json
          imgs/ (or images/)
            1.tif ... 613.tif

    Classes: none in the json (residential, airport, meadow, river, ocean, industrial, runway exist only in the
    classification release).

    Splits:
        The ``split`` field of each entry: train 497, val 58, test 58 (as widely cited; UNCONFIRMED).

    License:
        Research use; cite the paper (UNCONFIRMED terms).

    Citation:
        B. Qu, X. Li, D. Tao, X. Lu, "Deep Semantic Understanding of High Resolution Remote Sensing Image",
        CITS 2016. https://doi.org/10.1109/CITS.2016.7546397
    """

    name = "sydney_captions"
    title = "Sydney-Captions"
    homepage = "https://github.com/201528014227051/RSICD_optimal"
    license = "research use; cite Qu et al., CITS 2016 (terms UNCONFIRMED)"
    layout = "dataset.json (Karpathy) + imgs/ or images/<n>.tif"
    json_files = ("dataset.json", "Sydney_captions/dataset.json")
    image_dirs = ("imgs", "images", "Sydney_captions/imgs", "Sydney_captions/images")
