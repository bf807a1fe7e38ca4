"""Model classes, one per method (scvi-tools style)."""

from ._base import ModelBase
from ._graph_base import GraphModelBase
from .macd import MACD, MACDModule
from .mclstexp import MclSTExp, MclSTExpModule
from .scasdc import ScASDC, ScASDCModule
from .spacrd import SpaCRD, SpaCRDModule
from .stg3net import STG3Net, STG3NetModule
from .stmgac import STMGAC, STMGACModule

__all__ = [
    "MACD",
    "STMGAC",
    "GraphModelBase",
    "MACDModule",
    "MclSTExp",
    "MclSTExpModule",
    "ModelBase",
    "STG3Net",
    "STG3NetModule",
    "STMGACModule",
    "ScASDC",
    "ScASDCModule",
    "SpaCRD",
    "SpaCRDModule",
]
