"""A small German-credit-like data set and a model fitted the seed's way (defaults, no monotone).

Columns follow the public German credit data: protected attributes (personal_status_and_sex,
foreign_worker, age), an ordered credit history whose "critical account" rows default less
(as in the real data, which is what tempts a counterfactual to suggest worsening it), and
ordinary levers (duration_in_month, credit_amount).
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from core.scoring.loaded_model import LoadedModel

CREDIT_HISTORY = (
    "critical account/ other credits existing (not at this bank)",
    "delay in paying off in the past",
    "existing credits paid back duly till now",
    "all credits at this bank paid back duly",
    "no credits taken/ all credits paid back duly",
)
STATUS_AND_SEX = ("male single", "female divorced/separated/married", "male married/widowed")
FOREIGN_WORKER = ("yes", "no")
# Log-odds added per credit-history category: "critical account" looks safest, as in the data.
_HISTORY_EFFECT = (-1.2, 0.6, 0.4, 0.9, 1.1)


def german_like_frame(n_rows: int = 2_000, seed: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    """Features and a 0/1 default target where every column moves the risk."""
    rng = np.random.default_rng(seed)
    history = rng.integers(0, len(CREDIT_HISTORY), n_rows)
    status = rng.integers(0, len(STATUS_AND_SEX), n_rows)
    foreign = rng.integers(0, 2, n_rows)
    age = rng.integers(19, 75, n_rows).astype("float64")
    duration = rng.integers(4, 72, n_rows).astype("float64")
    amount = np.round(rng.lognormal(8, 0.6, n_rows), 0)
    logit = (
        -1.4
        + np.take(_HISTORY_EFFECT, history)
        + 0.7 * (status == 1)
        + 0.8 * (foreign == 0)
        - 0.03 * (age - 35)
        + 0.04 * (duration - 20)
        + 0.0002 * (amount - 3000)
    )
    target = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype("int64")
    features = pd.DataFrame(
        {
            "personal_status_and_sex": pd.Categorical.from_codes(status, STATUS_AND_SEX),
            "foreign_worker": pd.Categorical.from_codes(foreign, FOREIGN_WORKER),
            "age": age,
            "credit_history": pd.Categorical.from_codes(history, CREDIT_HISTORY),
            "duration_in_month": duration,
            "credit_amount": amount,
        }
    )
    return features, pd.Series(target, name="default")


def german_like_model(n_rows: int = 2_000, seed: int = 5) -> tuple[LoadedModel, pd.DataFrame]:
    """The seed's way: an LGBMClassifier with default settings (few trees), and its rows."""
    features, target = german_like_frame(n_rows, seed)
    model = lgb.LGBMClassifier(n_estimators=40, verbose=-1, random_state=42)
    model.fit(features, target)
    return LoadedModel(model), features


# Ten more categorical columns of the public data's kind (13 categorical in all), with a small
# effect each, so that a model uses many categories and the feature contract lists their levels.
EXTRA_CATEGORIES = {
    "checking_status": ("<0 DM", "0<=X<200 DM", ">=200 DM", "no checking account"),
    "purpose": ("car (new)", "car (used)", "furniture", "radio/television", "education"),
    "savings": ("<100 DM", "100<=X<500 DM", ">=1000 DM", "unknown/ no savings account"),
    "employment_since": ("unemployed", "<1 year", "1<=X<4 years", ">=7 years"),
    "other_debtors": ("none", "co-applicant", "guarantor"),
    "property": ("real estate", "building society savings", "car or other", "unknown"),
    "installment_plans": ("bank", "stores", "none"),
    "housing": ("rent", "own", "for free"),
    "job": ("unskilled", "skilled employee", "management/ self-employed"),
    "telephone": ("none", "yes, registered"),
}


def german_credit_store_frame(n_rows: int = 1_000, seed: int = 5) -> pd.DataFrame:
    """The German-like features with 13 categorical columns and the `default` target."""
    features, target = german_like_frame(n_rows, seed)
    rng = np.random.default_rng(seed + 1)
    logit = np.zeros(n_rows)
    extra = {}
    for name, levels in EXTRA_CATEGORIES.items():
        codes = rng.integers(0, len(levels), n_rows)
        logit += np.take(np.linspace(-0.3, 0.3, len(levels)), codes)
        extra[name] = pd.Categorical.from_codes(codes, levels)
    flips = rng.random(n_rows) < np.abs(np.tanh(logit)) * 0.3
    default = np.where(flips, (logit > 0).astype("int64"), target.to_numpy())
    return features.assign(**extra, default=default)
