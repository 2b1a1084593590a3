"""The Companion page in resources/companion/ drives a real Booth: every button's HTTP action, with
Companion's variables filled in the way Companion fills them, is a call the API accepts."""

from __future__ import annotations

import json
import re

from booth.resources import resource
from tests.api.client import Client

PAGE = resource("companion", "booth-page.companionconfig")


def buttons() -> dict[str, list[dict]]:
    page = json.loads(PAGE.read_text(encoding="utf-8"))
    assert page["type"] == "page" and page["instances"]["booth"]["instance_type"] == "generic-http"
    found = {}
    for row in page["page"]["controls"].values():
        for control in row.values():
            found[control["style"]["text"]] = control["steps"]["0"]["action_sets"]["down"]
    return found


class Companion:
    """Companion's part: custom variables, the press counter, the Generic HTTP POST."""

    def __init__(self, client: Client, now: int = 1_800_000_000) -> None:
        self.client = client
        self.variables = {"custom:booth_token": client.token, "custom:booth_press": 0, "internal:time_unix": now}

    def fill(self, text: str) -> str:
        return re.sub(r"\$\(([a-z_]+:[a-z_]+)\)", lambda m: str(self.variables[m.group(1)]), text)

    def press(self, actions: list[dict]):
        answer = None
        for action in actions:
            options = action["options"]
            if action["definitionId"] == "custom_variable_set_expression":
                assert options == {"name": "booth_press", "expression": "$(custom:booth_press) + 1"}
                self.variables["custom:booth_press"] += 1
                continue
            assert action["definitionId"] == "post" and action["connectionId"] == "booth"
            headers = json.loads(self.fill(options["header"]))
            headers["Content-Type"] = options["contenttype"]
            body = self.fill(options["body"])
            answer = self.client.request("POST", options["url"], body, headers=headers, token=False)
        return answer


def test_every_button_is_a_call_the_api_takes_and_sell_sells_once_per_press(served, api: Client) -> None:
    companion = Companion(api)
    pages = buttons()
    assert set(pages) >= {"SELL\\n+1", "UNDO", "START", "+30 s", "CLIP", "MARK", "AUTO"}
    assert companion.press(pages["SELL\\n+1"]).status == 200
    assert companion.press(pages["SELL\\n+1"]).status == 200  # same second, new press: a new key
    assert api.left("tee") == 8
    for text, actions in pages.items():
        if text.startswith(("SELL", "END")):
            continue
        answer = companion.press(actions)
        # `booth serve` has no picture: the picture's buttons get 503 with a reason; the timer's 409
        # when it is already running; nothing is malformed, unauthorised or a key conflict.
        assert answer.status in (200, 409, 503), (text, answer)
        assert answer.error == "" or answer.status != 400
    assert companion.press(pages["END\\nOFFER"]).status == 200
    assert api.state()["drop"]["phase"] == "ended"
