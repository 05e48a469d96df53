"""The SECOND benchmark's semantic-change evaluation (``Eval_SCD.py`` of Bi-SRNet), ported to arrays in memory.

``evaluate(preds, labels, num_class)`` takes the maps of both dates (``im1`` maps then ``im2`` maps, as the script
concatenates its file lists) and returns ``(mIoU, SeK, Score, Fscd)`` computed line for line as the original.
"""

import math

import numpy as np


def hmean(values):
    """``scipy.stats.hmean`` of positive values (kept here so the tests need no scipy)."""
    return len(values) / sum(1.0 / v for v in values)


def fast_hist(a, b, n):
    k = (a >= 0) & (a < n)
    return np.bincount(n * a[k].astype(int) + b[k], minlength=n**2).reshape(n, n)


def get_hist(image, label, num_class):
    hist = np.zeros((num_class, num_class))
    hist += fast_hist(image.flatten(), label.flatten(), num_class)
    return hist


def cal_kappa(hist):
    if hist.sum() == 0:
        kappa = 0
    else:
        po = np.diag(hist).sum() / hist.sum()
        pe = np.matmul(hist.sum(1), hist.sum(0).T) / hist.sum() ** 2
        kappa = 0 if pe == 1 else (po - pe) / (1 - pe)
    return kappa


def evaluate(preds, labels, num_class):
    hist = np.zeros((num_class, num_class))
    for infer_array, label_array in zip(preds, labels, strict=True):
        hist += get_hist(infer_array, label_array, num_class)
    hist_fg = hist[1:, 1:]
    c2hist = np.zeros((2, 2))
    c2hist[0][0] = hist[0][0]
    c2hist[0][1] = hist.sum(1)[0] - hist[0][0]
    c2hist[1][0] = hist.sum(0)[0] - hist[0][0]
    c2hist[1][1] = hist_fg.sum()
    hist_n0 = hist.copy()
    hist_n0[0][0] = 0
    kappa_n0 = cal_kappa(hist_n0)
    iu = np.diag(c2hist) / (c2hist.sum(1) + c2hist.sum(0) - np.diag(c2hist))
    IoU_fg = iu[1]
    IoU_mean = (iu[0] + iu[1]) / 2
    Sek = (kappa_n0 * math.exp(IoU_fg)) / math.e
    Score = 0.3 * IoU_mean + 0.7 * Sek
    pixel_sum = hist.sum()
    change_pred_sum = pixel_sum - hist.sum(1)[0].sum()
    change_label_sum = pixel_sum - hist.sum(0)[0].sum()
    SC_TP = np.diag(hist[1:, 1:]).sum()
    SC_Precision = SC_TP / change_pred_sum
    SC_Recall = SC_TP / change_label_sum
    F1 = hmean([SC_Precision, SC_Recall])
    return IoU_mean, Sek, Score, F1
