# A berth workload in Python: answers each request with a greeting and a word
# count, and tells its subscribers when it starts. `berth_workload` is in
# berth's Python image already; `wordcount` ships with the code, in vendor/,
# which the image puts on PYTHONPATH (nothing is installed at run time).
import berth_workload
from wordcount import count_words


def answer(data):
    name = data.get("name", "world") if isinstance(data, dict) else "world"
    text = data.get("text", "") if isinstance(data, dict) else ""
    return {"hello": name, "words": count_words(text)}


print("python-hello is starting")
berth_workload.run(answer, meta={"example": "python-hello"})
