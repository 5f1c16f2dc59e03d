from formservice import create_app
from formservice.config import from_environment


def test_testing_config(app):
    assert app.testing
    assert app.config["ORGANISATION_NAME"] == "Teststaden"


def test_environment_overrides(monkeypatch, app_config):
    monkeypatch.setenv("FORMSERVICE_ORGANISATION_NAME", "Miljöstaden")
    monkeypatch.setenv("FORMSERVICE_SESSION_LIFETIME_MINUTES", "12")
    app = create_app(app_config)
    assert app.config["ORGANISATION_NAME"] == "Miljöstaden"
    assert app.permanent_session_lifetime.total_seconds() == 12 * 60


def test_instance_config_file_is_read(tmp_path, monkeypatch, database_url):
    inst = tmp_path / "inst"
    inst.mkdir()
    from formservice.crypto import new_keyring_dict, write_key_file

    write_key_file(inst / "keys.json", new_keyring_dict())
    (inst / "config.py").write_text("SECRET_KEY = 'från-fil'\nORGANISATION_NAME = 'Filstaden'\n"
                                    f"DATABASE_URL = {database_url!r}\n")
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(inst))
    app = create_app()
    assert app.config["SECRET_KEY"] == "från-fil"
    assert app.config["ORGANISATION_NAME"] == "Filstaden"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # on by default outside the dev server


def test_missing_secret_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("FORMSERVICE_SECRET_KEY", raising=False)
    import pytest

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_from_environment_parses_types():
    env = {"FORMSERVICE_SESSION_COOKIE_SECURE": "0", "FORMSERVICE_MAX_CONTENT_LENGTH": "2048"}
    assert from_environment(env) == {"SESSION_COOKIE_SECURE": False, "MAX_CONTENT_LENGTH": 2048}


def test_missing_keys_are_refused(tmp_path, monkeypatch):
    import pytest

    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "nokeys"))
    monkeypatch.setenv("FORMSERVICE_SECRET_KEY", "x" * 32)
    with pytest.raises(RuntimeError, match="init-instance"):
        create_app()


def test_compiled_templates_are_kept_across_restarts(tmp_path, monkeypatch, database_url):
    """A server's compiled page and document templates go to instance/cache/jinja, and a restarted
    process reads them instead of compiling; a file that does not fit (another Python, a damaged
    file) is compiled anew, never served."""
    import jinja2
    import pytest

    import formservice
    from formservice.crypto import new_keyring_dict, write_key_file
    from formservice.rendering import documents, pdf
    from tests.sample_values import sample_values

    inst = tmp_path / "inst"
    inst.mkdir()
    write_key_file(inst / "keys.json", new_keyring_dict())
    (inst / "config.py").write_text(f"SECRET_KEY = 'x' * 32\nDATABASE_URL = {database_url!r}\n")
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(inst))
    cache = formservice._COMPILED_TEMPLATES

    def restart_and_render():
        monkeypatch.setattr(cache, "store", {})  # a new process: nothing compiled in memory
        pdf.reset_engine()
        app = create_app()
        catalogue = app.extensions["catalogue"]
        values = sample_values(*documents.parts_of(catalogue, "forandringsplan"))
        return documents.produce(catalogue, "forandringsplan", values, pdf.DocumentContext(organisation="X"))

    try:
        assert restart_and_render().content.startswith(b"%PDF")
        kept = sorted((inst / "cache" / "jinja").iterdir())
        assert kept, "nothing was kept"

        def no_compiling(*args, **kwargs):
            raise AssertionError("a template was compiled although its compiled form was kept")

        with monkeypatch.context() as patched:
            patched.setattr(jinja2.Environment, "compile", no_compiling)
            assert restart_and_render().content.startswith(b"%PDF")
        for path in kept:
            path.write_bytes(b"not bytecode")
        with pytest.raises(AssertionError, match="was compiled"), monkeypatch.context() as patched:
            patched.setattr(jinja2.Environment, "compile", no_compiling)
            restart_and_render()
        assert restart_and_render().content.startswith(b"%PDF")
        assert all(path.read_bytes() != b"not bytecode" for path in kept)  # written anew
    finally:
        cache.directory = None
        pdf.reset_engine()
