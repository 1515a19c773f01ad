"""The type-traits table agrees with the gguf package's constants."""
import gguf
import pytest

from fusedq.types import QTYPES, QTYPES_BY_ID, qtype

EXPECTED = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"]


def test_table_covers_the_contract_types():
    assert list(QTYPES) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_sizes_and_ids_match_gguf(name):
    qt = QTYPES[name]
    gt = gguf.GGMLQuantizationType[name]
    assert qt.gguf_id == gt.value
    assert (qt.block_size, qt.type_size) == gguf.GGML_QUANT_SIZES[gt]
    assert QTYPES_BY_ID[qt.gguf_id] is qt
    assert all(0 <= off <= qt.type_size - 2 for off in qt.half_fields)


def test_lookup_by_name_id_and_errors():
    assert qtype("q4_k") is QTYPES["Q4_K"]
    assert qtype(12) is QTYPES["Q4_K"]
    with pytest.raises(ValueError, match="unknown tensor type 'Q9_X'"):
        qtype("Q9_X")
    with pytest.raises(ValueError, match="unsupported GGML type id 16"):
        qtype(16)
    with pytest.raises(TypeError):
        qtype(1.5)
