"""SafetyOps DSL: safety analyses as code."""
