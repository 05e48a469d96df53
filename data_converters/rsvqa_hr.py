"""RSVQA-HR: visual question answering on 15 cm aerial tiles."""

from __future__ import annotations

from data_converters.families.vqa import RSVQAConverter


class RSVQAHR(RSVQAConverter):
    """RSVQA-HR: Remote Sensing Visual Question Answering, high resolution.

    Homepage: https://rsvqa.sylvainlobry.com/ (data: https://zenodo.org/records/6344367)

    Dataset features:
        * 10,659 RGB TIFF tiles of 512x512 pixels from USGS High Resolution Orthoimagery at 15 cm (north-east USA)
        * about 1,066,316 question/answer pairs generated from OpenStreetMap; one answer per question
        * question types ``count``, ``presence``, ``comp`` (comparison) and ``area``

    Dataset format:
        * per split, three json files listing **every** entry of the dataset, those outside the split as
          placeholders ``{"id": i, "active": false}`` (filtered out here); same grammar as RSVQA-LR::

            USGS_split_train_questions.json: {"questions": [{"id": 0, "img_id": 0, "type": "area",
                                              "question": "What is the area covered by buildings?",
                                              "answers_ids": [0], "active": true}, ...]}

        * answers are normalised (:func:`~data_converters.families.vqa.normalise_answer`): lower case ``yes``/``no``,
          counts as integers, area bins kept as written (``between 10m2 and 100m2``; exact bins UNCONFIRMED)

    On disk::

        <root>/
          Data/0.tif ... 10658.tif
          USGS_split_{train,val,test,test_phili}_{images,questions,answers}.json

    Classes: none (question types: count, presence, comp, area; ``area`` confirmed by third-party evaluation code
    that filters on it).

    Splits:
        The ``*_split_<split>_*`` files, by tile: train (61.5%), val (11.2%), test (20.5%, same regions as train) and
        ``test_phili`` (6.8%: Philadelphia, an area and a sensor unseen in training), kept as its own split.

    License:
        CC BY 4.0 on Zenodo (UNCONFIRMED).

    Citation:
        S. Lobry, D. Marcos, J. Murray, D. Tuia, "RSVQA: Visual Question Answering for Remote Sensing Data",
        IEEE TGRS 58(12), 2020. https://doi.org/10.1109/TGRS.2020.2988782
    """

    name = "rsvqa_hr"
    title = "RSVQA-HR"
    homepage = "https://rsvqa.sylvainlobry.com/"
    license = "CC BY 4.0 (Zenodo record 6344367; UNCONFIRMED)"
    layout = "Data/<id>.tif + USGS_split_{train,val,test,test_phili}_{images,questions,answers}.json"
    splits = ("train", "val", "test", "test_phili")
    prefix = "USGS"
    image_dirs = ("Data", "Images")
    qtypes = ("count", "presence", "comp", "area")
    gsd = 0.15
