"""The generated sets' shared build-once protocol: stage, publish by rename, reuse by settings, and
the race of two processes publishing the same root."""
import json
import os

import pytest

from vmae2.datasets.generated_set import existing_set, publish_set, staging_folder

SETTINGS = dict(format_version=1, seed=0, frames=[96, 128])


def stage(root, content: str) -> str:
    tmp = staging_folder(str(root))
    (open(os.path.join(tmp, 'data.txt'), 'w')).write(content)
    return tmp


def test_publish_then_reuse_and_refuse_other_settings(tmp_path):
    root = tmp_path / 'sets' / 'toy'  # the parent is made too
    assert not existing_set(str(root), SETTINGS, 'Toy')
    tmp = stage(root, 'first')
    assert os.path.basename(tmp) == f'toy.tmp-{os.getpid()}'
    publish_set(tmp, str(root), SETTINGS, 'Toy')
    assert not os.path.exists(tmp)
    assert json.load(open(root / 'meta.json')) == SETTINGS
    assert (root / 'data.txt').read_text() == 'first'
    assert existing_set(str(root), dict(SETTINGS), 'Toy')
    with pytest.raises(FileExistsError, match=r'holds a Toy set generated with .*seed.: 0'):
        existing_set(str(root), dict(SETTINGS, seed=1), 'Toy')


def test_a_folder_without_meta_is_not_taken_for_a_set(tmp_path):
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'notes.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='holds no Toy set .no meta.json.'):
        existing_set(str(tmp_path / 'mine'), SETTINGS, 'Toy')
    assert (tmp_path / 'mine' / 'notes.txt').read_text() == 'user data'


def test_staging_folder_starts_empty(tmp_path):
    stale = stage(tmp_path / 'toy', 'half a set from a crashed run')
    assert staging_folder(str(tmp_path / 'toy')) == stale and os.listdir(stale) == []


def test_the_loser_of_a_race_keeps_the_winners_set(tmp_path):
    root = str(tmp_path / 'toy')
    winner = stage(root, 'winner')
    loser = winner + '-other-process'
    os.rename(winner, loser)  # two processes staged at once; the other one publishes first
    winner = stage(root, 'winner')
    publish_set(winner, root, SETTINGS, 'Toy')
    (open(os.path.join(loser, 'data.txt'), 'w')).write('loser')
    publish_set(loser, root, SETTINGS, 'Toy')  # same settings: no error, the loser's copy goes
    assert not os.path.exists(loser)
    assert open(os.path.join(root, 'data.txt')).read() == 'winner'

    other = stage(root, 'another set')  # a racer with other settings is told, and cleaned up
    with pytest.raises(FileExistsError, match='generated with'):
        publish_set(other, root, dict(SETTINGS, seed=3), 'Toy')
    assert not os.path.exists(other)
    assert open(os.path.join(root, 'data.txt')).read() == 'winner'
