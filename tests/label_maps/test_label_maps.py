"""Label maps shipped in the package: sizes, index lists agree with the names."""
from vmae2.label_maps import load_class_names, load_k710_index, load_label_merge


def test_class_lists_and_710_index_agree():
    k710 = load_class_names('k710')
    assert len(k710) == len(set(k710)) == 710
    for ds, n in (('k400', 400), ('k600', 600), ('k700', 700)):
        names, idx = load_class_names(ds), load_k710_index(ds)
        assert len(names) == len(idx) == n
        assert [k710[i] for i in idx] == names  # entry i = K710 row of class i
    assert load_class_names('K400')[0] == 'abseiling'


def test_merge_leaves_out_throwing_ball():
    merge = load_label_merge()
    assert 'throwing ball' not in merge and len(merge) == 14
    k710 = set(load_class_names('k710'))
    assert {'throwing ball', 'throwing ball (not baseball or American football)'} <= k710
    assert all(v in k710 for v in merge.values())
