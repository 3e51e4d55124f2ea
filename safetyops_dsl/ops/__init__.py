"""Results from the ML and data pipelines (the Ops in SafetyOps): MLflow's model registry and tracking store.

Heavy libraries (mlflow) are imported only when a command is given a tracking URI; `sops` start-up and every
command without one never import them. DVC pins are read while the model loads (parse/dvc_pins.py).
"""
