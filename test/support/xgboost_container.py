"""SageMaker's XGBoost 1.7-1 container (built-in algorithm mode) in the small, on the real XGBoost.

For test/infra/xgboost.test.ts: trains on libsvm channel directories and serves libsvm requests the
way github.com/aws/sagemaker-xgboost-container at tag v1.7-1 does (file:function named on each step),
with Debian's python3-xgboost 1.7.4, the version that container pins.

  python3 xgboost_container.py <job.json>

job.json: {"train": dir, "validation": dir, "hyperparameters": {name: text}, "model": path,
           "requests": {name: libsvm text}}
Prints one JSON object: the channels' shapes, the booster's feature count and best iteration, and per
request set either its scores or the error the container would answer with.
"""
import json
import sys

import numpy as np
import xgboost as xgb
from scipy.sparse import csr_matrix


def load_channel(path):
    # data_utils.py get_libsvm_dmatrix: xgb.DMatrix(files_path) on the channel's directory
    # (file mode; every file in it is read, as text).
    return xgb.DMatrix(path)


def typed(value):
    # The container's hyperparameter validation turns the job's string values into numbers.
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def train(job):
    # algorithm_mode/train.py train_job: num_round and early_stopping_rounds are popped, the rest go
    # to xgb.train as params; watchlist train then validation (early stopping on the last one).
    cfg = {k: typed(v) for k, v in job["hyperparameters"].items()}
    num_round = cfg.pop("num_round")
    early_stopping_rounds = cfg.pop("early_stopping_rounds", None)
    dtrain = load_channel(job["train"])
    dval = load_channel(job["validation"])
    bst = xgb.train(
        cfg,
        dtrain,
        num_boost_round=num_round,
        evals=[(dtrain, "train"), (dval, "validation")],
        early_stopping_rounds=early_stopping_rounds,
        verbose_eval=False,
    )
    # train.py: bst.save_model(model_location), model_location = <model dir>/xgboost-model.
    bst.save_model(job["model"])
    return dtrain, dval, bst


def load_booster(path):
    # algorithm_mode/serve_utils.py get_loaded_booster: pickle fails on a saved model, then
    # xgb.Booster().load_model (XGB_FORMAT), nthread 1.
    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param("nthread", 1)
    return booster


def sparse_matrix_from_libsvm(payload):
    # algorithm_mode/serve_utils.py _get_sparse_matrix_from_libsvm, verbatim but for np.int/np.float
    # (removed from numpy 1.24; the container's numpy still has them): a CSR matrix of max index + 1
    # columns, the tokens' indices taken as they are (no 1-based shift).
    pylist = map(lambda x: x.split(" "), payload.split("\n"))
    colon = ":"
    row = []
    col = []
    data = []
    for row_idx, line in enumerate(pylist):
        for item in line:
            if colon in item:
                col_idx = item.split(colon)[0]
                val = item.split(colon)[1]
                row.append(row_idx)
                col.append(col_idx)
                data.append(val)
    row = np.array(row)
    col = np.array(col).astype(int)
    data = np.array(data).astype(float)
    if not (len(row) == len(col) and len(col) == len(data)):
        raise RuntimeError("Dimension checking failed when transforming sparse matrix.")
    return csr_matrix((data, (row, col)))


def serve(booster, payload):
    # serve_utils.py parse_content_data (text/libsvm): payload.strip(), then the sparse matrix;
    # predict (XGB_FORMAT, so no feature-size pre-check): booster.predict with best_ntree_limit.
    dtest = xgb.DMatrix(sparse_matrix_from_libsvm(payload.strip()))
    return booster.predict(dtest, ntree_limit=getattr(booster, "best_ntree_limit", 0), validate_features=False)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    dtrain, dval, bst = train(job)
    booster = load_booster(job["model"])
    out = {
        "xgboost": xgb.__version__,
        "train": {"rows": dtrain.num_row(), "cols": dtrain.num_col()},
        "validation": {"rows": dval.num_row(), "cols": dval.num_col()},
        "num_features": booster.num_features(),
        "best_iteration": getattr(bst, "best_iteration", None),
        "requests": {},
    }
    for name, payload in job["requests"].items():
        try:
            out["requests"][name] = {"scores": [float(s) for s in serve(booster, payload)]}
        except Exception as e:  # the container answers a model error (HTTP 4xx/5xx) with this text
            out["requests"][name] = {"error": str(e).splitlines()[0]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
