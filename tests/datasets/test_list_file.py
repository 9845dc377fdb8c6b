import pytest

from vmae2.datasets import ListFileError, parse_list_file


def write(tmp_path, text, name='list.txt'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_official_layout_videos_and_frame_folders(tmp_path):
    ann = write(tmp_path, 'a/v1.mp4 0 -1\n\n# a comment\nb/frames_2 1 37\n')
    samples = parse_list_file(ann, root='/data/src', filename_tmpl='img_{:05}.jpg')
    assert samples == [
        dict(filename='/data/src/a/v1.mp4', start_index=0, label=-1),
        dict(frame_dir='/data/src/b/frames_2', filename_tmpl='img_{:05}.jpg', total_frames=37,
             start_index=1, label=-1),
    ]


def test_auto_layout_mixes_official_and_labelled_lines(tmp_path):
    ann = write(tmp_path, '# comment\nk400/a.mp4 0 -1\nssv2/12 1 48\n\nucf/b.avi 7\nhmdb/c.avi\n')
    rows = parse_list_file(ann, root='/data')
    assert rows[0] == dict(filename='/data/k400/a.mp4', start_index=0, label=-1)
    assert rows[1] == dict(frame_dir='/data/ssv2/12', filename_tmpl='img_{:05}.jpg',
                           total_frames=48, start_index=1, label=-1)
    assert rows[2] == dict(filename='/data/ucf/b.avi', start_index=0, label=7)
    assert rows[3]['label'] == -1 and len(rows) == 4


def test_labelled_layout(tmp_path):
    ann = write(tmp_path, 'x/1.mp4 3\nx/2.avi 0\nx/3.mp4\n')
    samples = parse_list_file(ann, layout='labelled')
    assert [s['filename'] for s in samples] == ['x/1.mp4', 'x/2.avi', 'x/3.mp4']
    assert [s['label'] for s in samples] == [3, 0, -1]


@pytest.mark.parametrize('text, layout, lineno, words', [
    ('a.mp4 0 -1\nb.mp4 0 -1 7\n', 'auto', 2, 'got 4'),
    ('a.mp4 0 -1\nb.mp4 3\n', 'official', 2, 'expected 3'),
    ('a.mp4 0 -1\n\nb.mp4 x -1\n', 'auto', 3, 'start_idx must be an integer'),
    ('a.mp4 zero\n', 'labelled', 1, 'label must be an integer'),
    ('a.mp4 lbl\n', 'auto', 1, 'label must be an integer'),
    ('a.mp4 0 -1\n\nc.mp4 1 2 3\n', 'auto', 3, 'columns'),
    ('ok.mp4 0 -1\nfr 1 0\n', 'auto', 2, '0 frames'),
])
def test_malformed_line_names_file_and_line(tmp_path, text, layout, lineno, words):
    ann = write(tmp_path, text, name='bad_list.txt')
    with pytest.raises(ListFileError) as info:
        parse_list_file(ann, layout=layout)
    assert f'bad_list.txt:{lineno}:' in str(info.value)
    assert words in str(info.value)


def test_missing_list_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        parse_list_file(str(tmp_path / 'nope.txt'))
