"""Evaluation: read model answers back and score them per dataset and task (``terrasense eval``).

Modules (metric functions are pure: numpy arrays and strings in, plain dicts out):

=====================  ==========================================================================================
module                 holds
=====================  ==========================================================================================
``detection``          AP per class and mAP for HBB and OBB, DOTA's official matching and AP, bit for bit
``captioning``         BLEU-1..4, ROUGE-L, CIDEr equal to pycocoevalcap's; a Java-free mirror of its tokenizer
``classification``     accuracy / per-class accuracy / confusion (scene, box class), counts (accuracy, MAE),
                       yes/no (accuracy, F1), VQA per question type (AA, OA), class sets, fractions
``grounding``          Acc@0.5, Acc@0.7 and mean IoU in pixels of the image, without the "+1 pixel"
``segmentation``       pixel precision/recall/F1/IoU accumulated over the set, SECOND's mIoU / SeK / Fscd
``normalize``          answer normalisation: text, yes/no, numbers, RSVQA area bins
``reading``            a record and its answer (:class:`~ts_instruct.eval.reading.Case`): classes, options, geometry
``text_tasks``         scorers of tasks answered in words and numbers
``geometry_tasks``     scorers of tasks answered with geometry (detection, grounding, polygons, change regions)
``runner``             predictions + references → cases → :data:`~ts_instruct.eval.runner.TASK_METRICS` → report
``report``             the text table and the JSON file
=====================  ==========================================================================================

Policy shared by every task: an answer that cannot be read is **wrong, never dropped**; each result says how many
there were (``unparsed``) and how many records had no answer at all (``missing``). Geometry is compared in pixels of
the emitted image, the space of ``annotations``. Each module's docstring states its conventions and where they
differ from the reference implementation they reproduce.
"""
