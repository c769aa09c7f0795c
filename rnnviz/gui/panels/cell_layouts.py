"""Where the cell diagram puts its blocks and arrows, for each cell type (plain data, no Qt).

Coordinates are scene pixels, y downwards. Nodes are placed by their centre; an arrow runs from
its source node through its ``via`` points (every segment horizontal or vertical) to its
destination, starting and ending at the nodes' borders. Each node shows a quantity of
:mod:`rnnviz.session.cell_values` (its colour and number); each arrow carries a quantity
forward (its width) and a gradient backward (its width in the backward pass).
"""

from __future__ import annotations

from dataclasses import dataclass

# (width, height) of each kind of node; ops and junctions are circles of that diameter.
SIZES = {"port": (78.0, 42.0), "gate": (64.0, 60.0), "weight": (104.0, 42.0),
         "op": (28.0, 28.0), "junction": (8.0, 8.0)}


@dataclass(frozen=True)
class Node:
    """A block. kind: "port" (an input or output), "gate" (an activation: ``symbol`` σ, tanh
    or relu), "weight" (a weighted sum), "op" (⊙, +, 1 −: ``symbol``), "junction" (where an
    arrow splits); label: markup; value: the quantity it shows (None: nothing); equation: the
    equation's name in :func:`rnnviz.session.cell_equations.equations` it belongs to."""

    key: str
    kind: str
    x: float
    y: float
    label: str = ""
    value: str | None = None
    symbol: str = ""
    equation: str | None = None

    @property
    def size(self) -> tuple[float, float]:
        return SIZES[self.kind]


@dataclass(frozen=True)
class Edge:
    """An arrow from node ``src`` to node ``dst`` through ``via`` points, carrying ``value``
    forward and ``grad`` (dL/d of what it carries, along this path) backward."""

    src: str
    dst: str
    value: str
    grad: str
    via: tuple[tuple[float, float], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.src}->{self.dst}"


@dataclass(frozen=True)
class Layout:
    cell: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float

    def node(self, key: str) -> Node:
        return next(n for n in self.nodes if n.key == key)


def _input_label(layer: int) -> str:
    return "x_t" if layer == 0 else f"h_t^{{({layer - 1})}}"


def _readout(x: float, y_block: float, y_out: float, src: str) -> tuple[list[Node], list[Edge]]:
    """The readout block (showing the logits "y_z") above or below ``src`` and its output."""
    nodes = [Node("readout", "weight", x, y_block, r"W_y h_t + b_y", "y_z", equation="y"),
             Node("y", "port", x, y_out, "y_t", "y", equation="y")]
    edges = [Edge(src, "readout", "h", "h_readout"), Edge("readout", "y", "y", "z_out")]
    return nodes, edges


def rnn_layout(cell: str, layer: int, readout: bool) -> Layout:
    act = "relu" if cell == "rnn_relu" else "tanh"
    nodes = [
        Node("h_prev", "port", 60, 130, "h_{t-1}", "h_prev"),
        Node("w_h", "weight", 200, 130, "W_h h_{t-1}", "from_h", equation="h"),
        Node("x", "port", 60, 310, _input_label(layer), "x"),
        Node("w_x", "weight", 200, 310, "W_x x_t", "from_x", equation="h"),
        Node("b", "port", 200, 220, "b_h", "b", equation="h"),
        Node("add", "op", 330, 220, "", "pre", "+", equation="h"),
        Node("act", "gate", 450, 220, "h_t", "h", act, equation="h"),
        Node("h", "port", 610, 220, "h_t", "h", equation="h"),
    ]
    edges = [
        Edge("h_prev", "w_h", "h_prev", "h_prev"),
        Edge("w_h", "add", "from_h", "from_h", ((330, 130),)),
        Edge("x", "w_x", "x", "x"),
        Edge("w_x", "add", "from_x", "from_x", ((330, 310),)),
        Edge("b", "add", "b", "b"),
        Edge("add", "act", "pre", "pre"),
        Edge("act", "h", "h", "h"),
    ]
    if readout:
        more_nodes, more_edges = _readout(610, 130, 45, "h")
        nodes += more_nodes
        edges += more_edges
    return Layout(cell, tuple(nodes), tuple(edges), 680, 360)


def lstm_layout(layer: int, readout: bool) -> Layout:
    gates = {"f": 200, "i": 290, "g": 380, "o": 480}
    nodes = [
        Node("c_prev", "port", 60, 60, "c_{t-1}", "c_prev"),
        Node("mul_f", "op", gates["f"], 60, "", "fc", "×", equation="c"),
        Node("add_c", "op", 380, 60, "", "c", "+", equation="c"),
        Node("jc", "junction", 570, 60, "", "c"),
        Node("c", "port", 720, 60, "c_t", "c", equation="c"),
        Node("mul_ig", "op", 380, 170, "", "ig", "×", equation="c"),
        Node("tanh_c", "gate", 570, 170, "", "tanh_c", "tanh", equation="h"),
        Node("mul_o", "op", 570, 290, "", "h", "×", equation="h"),
        Node("h", "port", 720, 370, "h_t", "h", equation="h"),
        Node("h_prev", "port", 60, 370, "h_{t-1}", "h_prev"),
        Node("cat", "junction", 140, 370, "", "xh"),
        Node("x", "port", 140, 450, _input_label(layer), "x"),
    ]
    for name, x in gates.items():
        symbol = "tanh" if name == "g" else "σ"
        nodes.append(Node(name, "gate", x, 290, f"{name}_t", name, symbol, equation=name))
        nodes.append(Node(f"tap_{name}", "junction", x, 370, "", "xh"))
    edges = [
        Edge("c_prev", "mul_f", "c_prev", "c_prev"),
        Edge("f", "mul_f", "f", "f"),
        Edge("mul_f", "add_c", "fc", "fc"),
        Edge("i", "mul_ig", "i", "i", ((gates["i"], 170),)),
        Edge("g", "mul_ig", "g", "g"),
        Edge("mul_ig", "add_c", "ig", "ig"),
        Edge("add_c", "jc", "c", "c"),
        Edge("jc", "c", "c", "c_out"),
        Edge("jc", "tanh_c", "c", "c_to_h"),
        Edge("tanh_c", "mul_o", "tanh_c", "tanh_c"),
        Edge("o", "mul_o", "o", "o"),
        Edge("mul_o", "h", "h", "h", ((570, 370),)),
        Edge("h_prev", "cat", "h_prev", "h_prev"),
        Edge("x", "cat", "x", "x"),
        Edge("cat", "tap_f", "xh", "xh"),
        Edge("tap_f", "tap_i", "xh", "xh"),
        Edge("tap_i", "tap_g", "xh", "xh"),
        Edge("tap_g", "tap_o", "xh", "xh"),
    ]
    edges += [Edge(f"tap_{name}", name, f"pre_{name}", f"pre_{name}") for name in gates]
    if readout:
        more_nodes, more_edges = _readout(720, 270, 175, "h")
        nodes += more_nodes
        edges += more_edges
    return Layout("lstm", tuple(nodes), tuple(edges), 790, 490)


def gru_layout(layer: int, readout: bool) -> Layout:
    nodes = [
        Node("h_prev", "port", 60, 60, "h_{t-1}", "h_prev"),
        Node("jp", "junction", 140, 60, "", "h_prev"),
        Node("mul_zh", "op", 470, 60, "", "zh", "×", equation="h"),
        Node("add_h", "op", 630, 60, "", "h", "+", equation="h"),
        Node("h", "port", 770, 60, "h_t", "h", equation="h"),
        Node("jz", "junction", 470, 130, "", "z"),
        Node("one_minus", "op", 550, 130, "", "one_minus_z", "1−", equation="h"),
        Node("mul_zn", "op", 630, 130, "", "zn", "×", equation="h"),
        Node("mul_r", "op", 440, 210, "", "rhn", "×", equation="n"),
        Node("add_n", "op", 550, 210, "", "pre_n", "+", equation="n"),
        Node("n", "gate", 630, 210, "n_t", "n", "tanh", equation="n"),
        Node("z", "gate", 220, 300, "z_t", "z", "σ", equation="z"),
        Node("r", "gate", 320, 300, "r_t", "r", "σ", equation="r"),
        Node("hn", "weight", 440, 300, "W_{hn} h_{t-1} + b_{hn}", "hn", equation="n"),
        Node("xn", "weight", 570, 300, "W_{in} x_t + b_{in}", "xn", equation="n"),
        Node("cat", "junction", 140, 380, "", "xh"),
        Node("x", "port", 140, 455, _input_label(layer), "x"),
    ]
    for name, x in (("z", 220), ("r", 320), ("hn", 440), ("xn", 570)):
        nodes.append(Node(f"tap_{name}", "junction", x, 380, "", "xh"))
    edges = [
        Edge("h_prev", "jp", "h_prev", "h_prev"),
        Edge("jp", "mul_zh", "h_prev", "h_prev_direct"),
        Edge("jp", "cat", "h_prev", "h_prev_gates"),
        Edge("x", "cat", "x", "x"),
        Edge("cat", "tap_z", "xh", "xh"),
        Edge("tap_z", "tap_r", "xh", "xh"),
        Edge("tap_r", "tap_hn", "xh", "xh"),
        Edge("tap_hn", "tap_xn", "xh", "xh"),
        Edge("tap_z", "z", "pre_z", "pre_z"),
        Edge("tap_r", "r", "pre_r", "pre_r"),
        Edge("tap_hn", "hn", "hn", "hn"),
        Edge("tap_xn", "xn", "xn", "xn"),
        Edge("z", "jz", "z", "z", ((220, 130),)),
        Edge("jz", "mul_zh", "z", "z_to_zh"),
        Edge("jz", "one_minus", "z", "z_to_1mz"),
        Edge("one_minus", "mul_zn", "one_minus_z", "one_minus_z"),
        Edge("r", "mul_r", "r", "r", ((320, 210),)),
        Edge("hn", "mul_r", "hn", "hn"),
        Edge("mul_r", "add_n", "rhn", "rhn"),
        Edge("xn", "add_n", "xn", "xn", ((570, 250), (550, 250))),
        Edge("add_n", "n", "pre_n", "pre_n"),
        Edge("n", "mul_zn", "n", "n"),
        Edge("mul_zn", "add_h", "zn", "zn"),
        Edge("mul_zh", "add_h", "zh", "zh"),
        Edge("add_h", "h", "h", "h"),
    ]
    if readout:
        more_nodes, more_edges = _readout(770, 170, 270, "h")
        nodes += more_nodes
        edges += more_edges
    return Layout("gru", tuple(nodes), tuple(edges), 840, 500)


def layout_for(cell: str, layer: int, readout: bool) -> Layout:
    """The diagram of a ``cell`` layer (the input is x_t on layer 0, else the layer below's
    h_t) with the readout when ``readout``."""
    if cell in ("rnn_tanh", "rnn_relu"):
        return rnn_layout(cell, layer, readout)
    if cell == "lstm":
        return lstm_layout(layer, readout)
    if cell == "gru":
        return gru_layout(layer, readout)
    raise ValueError(f"no diagram for cell type {cell!r}")
