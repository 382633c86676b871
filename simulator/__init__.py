"""Simulator: cost, freshness and latency of fine-tuning, RAG and hybrid over time.

book = load_price_book()                      # the only I/O (plus load_calibration)
a = derive_assumptions(profile, book, {"change_rate_per_month": 0.1})
result = simulate(profile, a, months=36, seed=0)
result.rows                                   # tidy DataFrame, one row per (month, strategy)
"""

from simulator.assumptions import Assumptions, derive_assumptions
from simulator.calibration import Calibration, apply_calibration, load_calibration
from simulator.prices import PriceBook, load_price_book
from simulator.simulate import SimulationResult, simulate

__all__ = [
    "Assumptions",
    "Calibration",
    "PriceBook",
    "SimulationResult",
    "apply_calibration",
    "derive_assumptions",
    "load_calibration",
    "load_price_book",
    "simulate",
]
