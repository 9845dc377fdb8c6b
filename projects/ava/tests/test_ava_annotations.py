"""AVA annotation readers: file:line errors, counted warnings, the shipped label list, the
proposals allow-list."""
import os.path as osp
import pickle

import numpy as np
import pytest
from ava_helpers import AVA_SAMPLE, need_ava_sample, write

from projects.ava.ava_vmae2 import (
    AVA_LABEL_FILE,
    AVAAnnotationError,
    load_proposals,
    read_annotations,
    read_exclusions,
    read_label_map,
)
from tests.helpers import DATA_ROOT

ROW = 'vid00000001,0902,0.1,0.2,0.5,0.9,12,0'


def test_shipped_label_list_is_the_60_ava_classes():
    classes = read_label_map(AVA_LABEL_FILE)
    assert len(classes) == 60
    assert classes[1] == 'bend/bow (at the waist)' and classes[80] == 'watch (a person)'
    assert 2 not in classes and 16 not in classes  # two of the 20 classes AVA does not evaluate
    source = osp.join(DATA_ROOT, 'label_maps', 'ava_label_map.txt')
    if osp.isfile(source):  # the same ids and names as the `id: name` file it was made from
        expected = {int(line.split(':', 1)[0]): line.split(':', 1)[1].strip()
                    for line in open(source) if line.strip()}
        assert classes == expected


def test_label_map_in_id_name_form_is_an_error_not_zero_classes(tmp_path):
    path = write(tmp_path / 'map.txt', '1: bend/bow (at the waist)\n3: crouch/kneel\n')
    with pytest.raises(AVAAnnotationError, match='no class found'):
        read_label_map(path)


def test_label_map_reads_item_and_label_forms(tmp_path):
    need_ava_sample()
    assert read_label_map(osp.join(AVA_SAMPLE, 'action_list.txt')) == {
        12: 'action1', 17: 'action2', 79: 'action3', 80: 'action3'}
    path = write(tmp_path / 'dup.pbtxt', 'label {\n  name: "a"\n  label_id: 3\n}\n'
                 'label {\n  name: "b"\n  label_id: 3\n}\n')
    with pytest.raises(AVAAnnotationError, match=r'dup.pbtxt:7: class id 3 listed twice'):
        read_label_map(path)


@pytest.mark.parametrize('bad, message', [
    ('vid00000001,0902,0.1,0.2,0.5,0.9,12', r'csv:2: expected 8 columns .* got 7'),
    (ROW + ',extra', r'csv:2: expected 8 columns .* got 9'),
    ('vid00000001,0902,0.1,zero,0.5,0.9,12,0', r'csv:2: y1 is not a number'),
    ('vid00000001,09x2,0.1,0.2,0.5,0.9,12,0', r'csv:2: timestamp is not an integer'),
    ('vid00000001,0902,0.1,0.2,1.5,0.9,12,0', r'csv:2: box .* not inside \[0, 1\]'),
    ('vid00000001,0902,0.5,0.2,0.1,0.9,12,0', r'csv:2: box .* x1 < x2'),
])
def test_malformed_rows_name_file_and_line(tmp_path, bad, message):
    path = write(tmp_path / 'ann.csv', f'{ROW}\n{bad}\n')
    with pytest.raises(AVAAnnotationError, match=message):
        read_annotations(path)


def test_boxes_outside_are_clipped_and_counted_on_request(tmp_path):
    path = write(tmp_path / 'ann.csv', f'{ROW}\nvid00000001,0903,-0.02,0.2,0.5,1.01,12,0\n'
                 'vid00000001,0904,1.1,0.2,1.3,0.9,12,0\n')
    rows, report = read_annotations(path, on_bad_box='clip')
    assert [r.timestamp for r in rows] == [902, 903]
    assert rows[1].box == (0.0, 0.2, 0.5, 1.0)
    assert report.counts == {'clipped: box outside [0, 1]': 1,
                             'dropped: empty box after clipping to [0, 1]': 1}
    assert report.examples['dropped: empty box after clipping to [0, 1]'][0].startswith(
        f'{path}:3: ')


def test_unknown_action_ids_on_the_shared_sample():
    """The sample's id 74 is not in its label list: counted and dropped (not trained on and
    then silently ignored by the evaluation), an error, or kept and counted."""
    root = need_ava_sample()
    csv, ids = osp.join(root, 'ava_sample.csv'), set(read_label_map(
        osp.join(root, 'action_list.txt')))
    rows, report = read_annotations(csv, ids)
    assert len(rows) == 7 and 74 not in {r.action_id for r in rows}
    assert report.counts == {'dropped: action id not in the label list': 1}
    assert report.examples['dropped: action id not in the label list'] == [
        f'{csv}:7: _-Z6wFjXtGQ,0902,0.063,0.049,0.524,0.996,74,0']
    with pytest.raises(AVAAnnotationError, match=r'ava_sample.csv:7: action id 74 is not in'):
        read_annotations(csv, ids, on_unknown='error')
    rows, report = read_annotations(csv, ids, on_unknown='keep')
    assert len(rows) == 8 and report.counts == {'kept: action id not in the label list': 1}


def test_exclusions(tmp_path):
    root = need_ava_sample()
    assert read_exclusions(osp.join(root, 'ava_excluded_timestamps_sample.csv')) == {
        '0f39OWEqJ24,0903', '_-Z6wFjXtGQ,0902'}
    assert read_exclusions(None) == set()
    path = write(tmp_path / 'ex.csv', 'vid00000001,0902\nvid00000001,0903,1\n')
    with pytest.raises(AVAAnnotationError, match=r'ex.csv:2: expected 2 columns'):
        read_exclusions(path)


def test_proposals_are_read_without_running_code(tmp_path):
    root = need_ava_sample()
    props = load_proposals(osp.join(root, 'ava_proposals_sample.pkl'))
    assert props['_-Z6wFjXtGQ,0902'].shape == (3, 5)
    assert props['_-Z6wFjXtGQ,0902'].dtype == np.float32

    class Evil:
        def __reduce__(self):
            return (print, ('pwned', ))

    with open(tmp_path / 'evil.pkl', 'wb') as f:
        pickle.dump({'a,0902': Evil()}, f)
    with pytest.raises(AVAAnnotationError, match='dicts of numpy arrays only, found builtins'):
        load_proposals(str(tmp_path / 'evil.pkl'))
    with open(tmp_path / 'pixels.pkl', 'wb') as f:
        pickle.dump({'a,0902': np.array([[10., 20., 200., 300., 0.9]])}, f)
    with pytest.raises(AVAAnnotationError, match=r"'a,0902' are not normalised"):
        load_proposals(str(tmp_path / 'pixels.pkl'))
