"""The official `openai` Python SDK against the assistant example.

Usage: python openai_sdk.py <base_url> <check> [<other_base_url>]; prints one
JSON line with what it saw, for the Rust test to judge. Each check is one SDK
call as users write it; `background` resumes on the other instance when given.
"""

import json
import sys

import openai

base_url, check = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=20)
messages = [{"role": "user", "content": "the quick brown fox jumps over the lazy dog"}]
out = {"sdk": openai.__version__}

if check == "chat":
    completion = client.chat.completions.create(model="fake-1", messages=messages)
    out["text"] = completion.choices[0].message.content
    out["finish_reason"] = completion.choices[0].finish_reason
    out["completion_tokens"] = completion.usage.completion_tokens
    stream = client.chat.completions.create(model="fake-1", messages=messages, stream=True)
    deltas = []
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        if choice.delta.content:
            deltas.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
    out["streamed"] = "".join(deltas)
    out["stream_finish_reason"] = finish
    out["models"] = [model.id for model in client.models.list()]
elif check == "auth":
    bad = openai.OpenAI(base_url=base_url, api_key="sk-wrong", max_retries=0)
    try:
        bad.chat.completions.create(model="fake-1", messages=messages)
        out["raised"] = None
    except openai.AuthenticationError as err:
        out["raised"] = "AuthenticationError"
        out["status"] = err.status_code
        out["code"] = err.code
    try:
        client.chat.completions.create(model="gpt-none", messages=messages)
    except openai.NotFoundError as err:
        out["unknown_model"] = err.code
elif check == "close":
    long = [{"role": "user", "content": " ".join(f"w{n}" for n in range(400))}]
    stream = client.chat.completions.create(model="fake-1", messages=long, stream=True)
    seen = 0
    for chunk in stream:
        seen += 1
        if seen == 4:
            break
    stream.close()
    out["seen"] = seen
elif check == "background":
    # A background response, streamed; the client drops it after a few
    # events, then resumes after the last sequence number it saw.
    stream = client.responses.create(
        model="fake-1", input="one two three four five six seven eight", stream=True, background=True
    )
    deltas = []
    response_id = None
    last = None
    for event in stream:
        last = event.sequence_number
        if event.type == "response.created":
            response_id = event.response.id
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
            if len(deltas) == 3:
                break
    stream.close()
    if len(sys.argv) > 3:
        client = openai.OpenAI(base_url=sys.argv[3], api_key="sk-test", max_retries=0, timeout=20)
    resumed = client.responses.retrieve(response_id, stream=True, starting_after=last)
    sequences = []
    for event in resumed:
        sequences.append(event.sequence_number)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        if event.type == "response.completed":
            out["completed_text"] = event.response.output_text
    out["streamed"] = "".join(deltas)
    out["resumed_after"] = last
    out["first_resumed"] = sequences[0] if sequences else None
    out["in_order"] = sequences == sorted(set(sequences))
    out["retrieved"] = client.responses.retrieve(response_id).output_text
    out["status"] = client.responses.retrieve(response_id).status
else:
    raise SystemExit(f"unknown check {check}")

print(json.dumps(out))
