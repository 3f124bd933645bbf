"""The chat-completions client against a real HTTP server on 127.0.0.1 with scripted replies:
streaming, whole replies, errors in one line, garbage, and no wait past the timeout."""
from __future__ import annotations

import socket
import time

import pytest

from careqa.config import Settings
from careqa.errors import SettingsError
from careqa.llm import Endpoint, LLMError, chat, chat_stream
from chat_server import ChatServer, Reply

MESSAGES = [{"role": "user", "content": "Say something."}]
TEXT = "Municipalities pay a daily fine [1]. Hospitals agree plans [2]."


def endpoint(url: str, timeout: float = 5.0, key: str = "") -> Endpoint:
    return Endpoint(url, "scripted", timeout, api_key=key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamed_reply_arrives_in_pieces_and_whole():
    with ChatServer(lambda body: Reply(TEXT)) as server:
        pieces = list(chat_stream(endpoint(server.url), MESSAGES))
    assert len(pieces) > 5 and "".join(pieces) == TEXT
    sent = server.requests[0]
    assert sent["stream"] is True and sent["model"] == "scripted" and sent["messages"] == MESSAGES


def test_a_server_that_does_not_stream_is_read_whole():
    whole = b'{"choices": [{"message": {"role": "assistant", "content": "Plain reply [1]."}}]}'
    with ChatServer(lambda body: Reply(raw=whole, content_type="application/json")) as server:
        assert chat(endpoint(server.url), MESSAGES) == "Plain reply [1]."


def test_the_key_goes_in_a_header_and_never_into_an_error():
    key = "sk-test-1234567890"

    def script(body):
        return Reply(f"Incorrect API key provided: {key}", status=401)

    with ChatServer(script) as server:
        with pytest.raises(LLMError) as caught:
            chat(endpoint(server.url, key=key), MESSAGES)
    message = str(caught.value)
    assert server.headers[0]["Authorization"] == f"Bearer {key}"
    assert key not in message and "***" in message and "HTTP 401" in message and "check the API key" in message
    assert "\n" not in message and key not in repr(endpoint(server.url, key=key))


def test_a_server_error_is_one_line_naming_the_server():
    with ChatServer(lambda body: Reply("model 'scripted' not found", status=404)) as server:
        with pytest.raises(LLMError, match=r"model server at http://127\.0\.0\.1:\d+/v1 answered HTTP 404: "
                                           r"model 'scripted' not found$"):
            chat(endpoint(server.url), MESSAGES)


@pytest.mark.parametrize("reply, said", [
    (Reply(raw=b"<html><body>Welcome to nginx!</body></html>", content_type="text/html"), "not a chat-completions"),
    (Reply(raw=b"data: {not json}\n\n", content_type="text/event-stream"), "not a chat-completions"),
    (Reply(raw=b'data: {"choices": [{"delta": {"content": "cut off"}}]}\n\n', content_type="text/event-stream"),
     "closed the stream before it ended"),
    (Reply(raw=b'{"object": "list", "data": []}', content_type="application/json"), "without choices"),
])
def test_garbage_is_a_clear_error(reply, said):
    with ChatServer(lambda body: reply) as server:
        with pytest.raises(LLMError, match=said):
            chat(endpoint(server.url), MESSAGES)


def test_a_silent_server_is_given_up_at_the_timeout():
    with ChatServer(lambda body: Reply(TEXT, delay=20)) as server:
        started = time.monotonic()
        with pytest.raises(LLMError, match="did not finish within 1 s|did not answer within 1 s"):
            chat(endpoint(server.url, timeout=1.0), MESSAGES)
        assert time.monotonic() - started < 1.5


def test_a_trickling_server_is_cut_off_at_the_timeout_not_after_it():
    """Each piece comes well within the timeout, the whole reply would not: the deadline is the whole reply's."""
    with ChatServer(lambda body: Reply(TEXT * 4, pause=0.1, piece=2)) as server:
        started = time.monotonic()
        got = []
        with pytest.raises(LLMError, match="did not finish within 1.5 s"):
            for piece in chat_stream(endpoint(server.url, timeout=1.5), MESSAGES):
                got.append(piece)
        assert 1.4 < time.monotonic() - started < 2.0 and got  # pieces came, then the deadline


def test_a_refused_connection_fails_at_once():
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"cannot reach the model server at .* \(connection refused\): is it running\?"):
        chat(endpoint(f"http://127.0.0.1:{free_port()}/v1"), MESSAGES)
    assert time.monotonic() - started < 1.0


def test_a_key_in_the_servers_address_never_shows_in_an_error():
    port = free_port()
    with pytest.raises(LLMError) as caught:
        chat(endpoint(f"http://127.0.0.1:{port}/v1?api_key=SECRET"), MESSAGES)
    assert f"http://127.0.0.1:{port}/v1" in str(caught.value) and "SECRET" not in str(caught.value)


def test_settings_for_a_model_server(monkeypatch):
    monkeypatch.setenv("CAREQA_LLM_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("CAREQA_LLM_MODEL", "llama3.2")
    monkeypatch.setenv("CAREQA_LLM_API_KEY", "sk-secret")
    settings = Settings.from_env()
    found = Endpoint.from_settings(settings)
    assert (found.url, found.model, found.timeout, found.api_key) == ("http://127.0.0.1:11434/v1", "llama3.2", 120.0,
                                                                       "sk-secret")
    assert found.completions == "http://127.0.0.1:11434/v1/chat/completions"
    assert "sk-secret" not in repr(settings) and "sk-secret" not in repr(found)
    monkeypatch.setenv("CAREQA_LLM_KEY_ENV", "MY_KEY")
    monkeypatch.setenv("MY_KEY", "sk-other")
    assert Endpoint.from_settings(Settings.from_env()).api_key == "sk-other"
    assert Endpoint.from_settings(Settings.from_env(llm_url="")) is None


@pytest.mark.parametrize("env, said", [
    ({"CAREQA_LLM_URL": "http://127.0.0.1:11434/v1"}, r"CAREQA_LLM_MODEL \(--llm-model\) must name a model"),
    ({"CAREQA_LLM_URL": "ftp://host/v1", "CAREQA_LLM_MODEL": "m"}, "CAREQA_LLM_URL must be an http:// or https://"),
    ({"CAREQA_LLM_URL": "http://bob:hunter2@host/v1", "CAREQA_LLM_MODEL": "m"}, "without a user or password"),
    ({"CAREQA_LLM_TIMEOUT": "0"}, "CAREQA_LLM_TIMEOUT must be a number greater than 0"),
    ({"CAREQA_LLM_KEY_ENV": "not a name"}, "CAREQA_LLM_KEY_ENV must be the name of an environment variable"),
])
def test_bad_model_settings_are_one_line_errors(env, said):
    with pytest.raises(SettingsError, match=said) as caught:
        Settings.from_env(env)
    assert "hunter2" not in str(caught.value)


def test_a_key_with_a_line_break_is_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv("CAREQA_LLM_API_KEY", "sk-abc\r\nX-Evil: 1")
    settings = Settings.from_env({"CAREQA_LLM_URL": "http://127.0.0.1:1/v1", "CAREQA_LLM_MODEL": "m"})
    with pytest.raises(SettingsError, match="CAREQA_LLM_API_KEY holds a space or control character") as caught:
        Endpoint.from_settings(settings)
    assert "sk-abc" not in str(caught.value)
