"""RSVQA-LR: visual question answering on Sentinel-2 tiles."""

from __future__ import annotations

from data_converters.families.vqa import RSVQAConverter


class RSVQALR(RSVQAConverter):
    """RSVQA-LR: Remote Sensing Visual Question Answering, low resolution.

    Homepage: https://rsvqa.sylvainlobry.com/ (data: https://zenodo.org/records/6344334)

    Dataset features:
        * 772 RGB TIFF tiles of 256x256 pixels from Sentinel-2 at 10 m over the Netherlands
        * 77,232 question/answer pairs generated from OpenStreetMap; one answer per question
        * question types ``count``, ``presence``, ``comp`` (comparison) and ``rural_urban``

    Dataset format:
        * per split, three json files listing **every** entry of the dataset, those outside the split as
          placeholders ``{"id": i, "active": false}`` (filtered out here)::

            LR_split_train_questions.json: {"questions": [{"id": 0, "date_added": ..., "img_id": 0, "people_id": ...,
                                            "type": "presence", "question": "Is there a road?",
                                            "answers_ids": [0], "active": true}, {"id": 1, "active": false}, ...]}
            LR_split_train_answers.json:   {"answers": [{"id": 0, "question_id": 0, "answer": "yes", ...}, ...]}
            LR_split_train_images.json:    {"images": [{"id": 0, "questions_ids": [...], "active": true, ...}, ...]}

        * answers are normalised (:func:`~data_converters.families.vqa.normalise_answer`): lower case ``yes``/``no``,
          ``rural``/``urban``, counts as integers (the raw numbers, not the official model's ranges)

    On disk::

        <root>/
          Images_LR/0.tif ... 771.tif
          LR_split_{train,val,test}_{images,questions,answers}.json

    Classes: none (question types: count, presence, comp, rural_urban).

    Splits:
        The ``*_split_<split>_*`` files: train/val/test by tile (about 77.8% / 11.1% / 11.1% of the tiles).

    License:
        CC BY 4.0 on Zenodo (UNCONFIRMED).

    Citation:
        S. Lobry, D. Marcos, J. Murray, D. Tuia, "RSVQA: Visual Question Answering for Remote Sensing Data",
        IEEE TGRS 58(12), 2020. https://doi.org/10.1109/TGRS.2020.2988782
    """

    name = "rsvqa_lr"
    title = "RSVQA-LR"
    homepage = "https://rsvqa.sylvainlobry.com/"
    license = "CC BY 4.0 (Zenodo record 6344334; UNCONFIRMED)"
    layout = "Images_LR/<id>.tif + LR_split_{train,val,test}_{images,questions,answers}.json"
    prefix = "LR"
    image_dirs = ("Images_LR", "Images")
    qtypes = ("count", "presence", "comp", "rural_urban")
    gsd = 10.0
