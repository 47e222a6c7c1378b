"""How learners phrase a search (query_words.yaml): filler words, course-form endings and one-way synonyms."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_WORD_CHARS = 20
MAX_SYNONYMS = 12


def _word(value: str, *, what: str) -> str:
    word = value.strip()
    if not word or len(word) > MAX_WORD_CHARS or any(c.isspace() for c in word):
        raise ValueError(f"{what} {value!r} is not one word of 1 to {MAX_WORD_CHARS} characters")
    return word


class QueryWords(BaseModel):
    """The query parser's vocabulary; indexer/query_vocabulary.py folds it and turns it into query alternatives."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, description="Version of the table, for the record.")
    fillers: list[str] = Field(
        default_factory=list, description="Words a query leaves out when it has other words (怎么, 我想, 课程)."
    )
    course_suffixes: list[str] = Field(
        default_factory=list, description="Endings naming a course's form: 书法课 also finds 书法."
    )
    synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description="Query word -> catalogue words it also matches (one way)."
    )
    thesaurus: bool = Field(
        default=True,
        description="Also match a learner's word the catalogue rarely holds by the words 同义词词林 groups tightly "
        "with it that the catalogue holds more often (indexer/thesaurus.py), weighted below the synonyms here.",
    )

    @field_validator("fillers", "course_suffixes")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(_word(v, what="word") for v in values))

    @field_validator("synonyms")
    @classmethod
    def _synonyms(cls, synonyms: dict[str, list[str]]) -> dict[str, list[str]]:
        cleaned: dict[str, list[str]] = {}
        for key, values in synonyms.items():
            word = _word(key, what="query word")
            listed = list(dict.fromkeys(_word(v, what=f"synonym of {word}") for v in values))
            if not listed or len(listed) > MAX_SYNONYMS:
                raise ValueError(f"{word}: list 1 to {MAX_SYNONYMS} words")
            if word in listed:
                raise ValueError(f"{word}: a word is not its own synonym")
            cleaned[word] = listed
        return cleaned
