from __future__ import annotations

import io
from pathlib import Path

import pytest

from smoke.lint.manifests import ManifestError, field_path, load_manifests, parse_documents

TWO_DOCS = """\
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: scan}
data:
  KEY: v
---
---
apiVersion: batch/v1
kind: Job
metadata:
  name: b
  annotations:
    argocd.argoproj.io/hook: PostSync
"""


def test_documents_keep_file_index_and_field_lines() -> None:
    first, second = parse_documents(TWO_DOCS, "m.yaml")
    assert (first.kind, first.index, first.namespace, first.label) == (
        "ConfigMap",
        0,
        "scan",
        "ConfigMap scan/a",
    )
    assert first.line_of("data.KEY") == 6
    # The empty document between them still counts, as in `yq documentIndex`.
    assert (second.index, second.label) == (2, "Job b")
    path = field_path("metadata.annotations", "argocd.argoproj.io/hook")
    assert path == 'metadata.annotations["argocd.argoproj.io/hook"]'
    assert second.line_of(path) == 14
    # An unknown field falls back to its nearest known parent.
    assert second.line_of("metadata.labels.app") == 11


def test_get_tolerates_missing_and_mistyped_levels() -> None:
    (doc,) = parse_documents("apiVersion: v1\nkind: Pod\nspec: [1, 2]\n", "m.yaml")
    assert doc.get("spec", 1) == 2
    assert doc.get("spec", 5) is None
    assert doc.get("spec", "containers", default=[]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: [unclosed\n", "m.yaml: line 2, column 1: invalid YAML"),
        (
            "apiVersion: v1\nkind: A\n---\n- a list\n",
            "m.yaml: document 1 (line 4): not a Kubernetes",
        ),
        ("apiVersion: v1\nmetadata: {}\n", "expected a mapping with `kind`"),
        ("kind: Deployment\n", "Deployment has no `apiVersion`"),
    ],
)
def test_bad_input_is_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_documents(text, "m.yaml")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_directories_are_read_recursively_and_stdin_by_dash(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: b}\n")
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n")
    (tmp_path / "notes.txt").write_text("kind: [not yaml at all")
    stdin = io.StringIO("apiVersion: v1\nkind: Secret\nmetadata: {name: c}\n")
    docs = load_manifests([str(tmp_path), "-"], stdin)
    assert [(Path(d.file).name, d.name) for d in docs] == [
        ("a.yaml", "a"),
        ("b.yml", "b"),
        ("<stdin>", "c"),
    ]


def test_missing_paths_and_empty_input_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_manifests([str(tmp_path / "nope.yaml")], io.StringIO())
    with pytest.raises(ManifestError, match="no Kubernetes documents"):
        load_manifests(["-"], io.StringIO("---\n"))
