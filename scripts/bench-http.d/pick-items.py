"""Prints `<obligation id> <party code>` for N items spread over the whole
item list (every few pages, a few items of each), each with a party assigned
to it that may take an `in_progress` report, for scripts/bench-http's GET and
POST loads.

    python3 pick-items.py BASE_URL TOKEN N
"""
import json
import sys
import urllib.request

base, token, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])


def page(cursor):
    url = f"{base}/api/v1/obligations?limit=200" + (f"&cursor={cursor}" if cursor else "")
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


items, cursor, n = [], None, 0
while len(items) < wanted:
    p = page(cursor)
    if n % 5 == 0:  # every fifth page: about 40 programmes' worth at full scale
        for i in p["items"][:20]:
            if not i["assignments"] or i["recurrence"]:
                continue  # a yearly item's report needs its year
            party = i["assignments"][0]["party"]
            closed = [s for s in i["status"] if s["party"] == party and s["lifecycle"] in ("cancelled", "superseded")]
            if not closed:  # a report that the lifecycle rules allow
                items.append((i["id"], party))
    n += 1
    cursor = p.get("next_cursor")
    if not cursor:
        break
if not items:
    sys.exit("pick-items: no item with an assignment")
for item_id, party in items[:wanted]:
    print(item_id, party)
