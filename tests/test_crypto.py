import pytest
from cryptography.exceptions import InvalidTag

from formservice.crypto import CryptoError, keyring_from_dict, name_prefixes, new_keyring_dict


def test_round_trip_and_key_rotation_readability():
    old = new_keyring_dict()
    kr = keyring_from_dict(old)
    blob = kr.encrypt_json({"namn": "Tolvan Tolvansson"})
    assert b"Tolvan" not in blob
    assert kr.decrypt_json(blob) == {"namn": "Tolvan Tolvansson"}
    new = new_keyring_dict()
    both = keyring_from_dict({"active": new["active"], "index_key": old["index_key"],
                              "data_keys": {**old["data_keys"], **new["data_keys"]}})
    assert both.decrypt_json(blob)["namn"] == "Tolvan Tolvansson"  # old data readable after rotation
    with pytest.raises(CryptoError, match="saknas"):
        keyring_from_dict(new).decrypt(blob)


def test_tampering_is_detected():
    kr = keyring_from_dict(new_keyring_dict())
    blob = bytearray(kr.encrypt(b"hemligt"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        kr.decrypt(bytes(blob))


def test_keyed_hash_depends_on_key_and_purpose():
    a, b = keyring_from_dict(new_keyring_dict()), keyring_from_dict(new_keyring_dict())
    assert a.keyed_hash("pnr", "191212121212") != b.keyed_hash("pnr", "191212121212")
    assert a.keyed_hash("pnr", "x") != a.keyed_hash("namn", "x")


def test_name_prefixes_for_search():
    assert {"to", "tol", "tolvan", "tolvansson"} <= name_prefixes("Tolvan Tolvansson")
    assert "å" not in name_prefixes("Åsa") and "ås" in name_prefixes("Åsa")


def test_broken_key_config_is_a_clear_error():
    with pytest.raises(CryptoError):
        keyring_from_dict({"active": "k9", "data_keys": {}, "index_key": "x"})
