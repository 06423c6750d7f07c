"""The AWX / Automation Platform definitions in docs/awx/ against AWX's rules and the roles' argument specs.

The credential type, the surveys and the job template playbook are checked the way AWX validates
them (field schema, injector templates rendered against the declared inputs, survey question
types and defaults), and every variable they set must be an option of the role that reads it.
"""

import functools
import json
import re
from pathlib import Path

import pytest
import yaml
from jinja2 import meta, nodes
from jinja2.exceptions import UndefinedError
from jinja2.runtime import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).parents[2]
AWX = ROOT / "docs" / "awx"
MIGRATE_SPEC = ROOT / "roles" / "migrate" / "meta" / "argument_specs.yml"
ROLLBACK_SPEC = ROOT / "roles" / "rollback" / "meta" / "argument_specs.yml"

VARIABLE_NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FILE_TEMPLATE = re.compile(r"^template\.([a-zA-Z_]+[a-zA-Z0-9_]*)$")
FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret", "ask_at_runtime", "default"}
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "integer": int, "float": (float, int),
                "multiplechoice": str, "multiselect": str}
# Input ids that hold secrets, and the role variables that may receive them.
SECRET_INPUT_SUFFIXES = ("_token", "_password", "_secret_key")
SECRET_VARIABLE_SUFFIXES = ("_api_key", "_password", "_secret_key")
# Which survey question types can carry a value of each option type.
SURVEY_TYPES_FOR_OPTION = {
    "str": {"text", "textarea", "password", "multiplechoice"},
    "path": {"text"},
    "list": {"text", "textarea", "multiselect"},
    "dict": {"text", "textarea"},
    "raw": {"text", "textarea"},  # the namespace mappings: a mapping, or a YAML/JSON string of one
    "int": {"integer"},
    "bool": {"multiplechoice"},
}
AWX_MODULES = {"awx.awx.credential_type", "awx.awx.credential", "awx.awx.execution_environment",
               "awx.awx.project", "awx.awx.job_template"}


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=None)
def credential_type():
    return load_yaml(AWX / "credential-type-migration.yml")


@functools.lru_cache(maxsize=None)
def surveys():
    return {"migrate": load_json(AWX / "survey-migrate.json"), "rollback": load_json(AWX / "survey-rollback.json")}


@functools.lru_cache(maxsize=None)
def job_templates_play():
    plays = load_yaml(AWX / "job-templates.yml")
    assert isinstance(plays, list) and len(plays) == 1, "docs/awx/job-templates.yml must hold one play"
    return plays[0]


def role_options(path):
    return load_yaml(path)["argument_specs"]["main"]["options"]


def options_for(prefix):
    """The options of the role that reads variables starting with `prefix`."""
    if prefix == "migrate_":
        return role_options(MIGRATE_SPEC)
    if not ROLLBACK_SPEC.is_file():
        pytest.fail(
            "roles/rollback/meta/argument_specs.yml is missing: the rollback_* variables of "
            "docs/awx/credential-type-migration.yml and docs/awx/survey-rollback.json cannot be "
            "checked against the rollback role (create the argument spec of role rollback)"
        )
    return role_options(ROLLBACK_SPEC)


def fields():
    return credential_type()["inputs"]["fields"]


def field_ids():
    return {field["id"] for field in fields()}


def secret_ids():
    return {field["id"] for field in fields() if field.get("secret")}


def file_names():
    return {FILE_TEMPLATE.match(key).group(1) for key in credential_type()["injectors"].get("file", {})}


def extra_vars():
    return credential_type()["injectors"]["extra_vars"]


def job_template_task():
    tasks = [task for task in job_templates_play()["tasks"] if "awx.awx.job_template" in task]
    assert len(tasks) == 1, "docs/awx/job-templates.yml must create the job templates in one looped task"
    return tasks[0]


def variables_set():
    """Every variable the definitions set: injector extra_vars, survey questions, job template extra_vars."""
    names = set(extra_vars())
    for survey in surveys().values():
        names.update(question["variable"] for question in survey["spec"])
    for item in job_template_task()["loop"]:
        names.update(item.get("extra_vars") or {})
    return names


def template_inputs(template):
    """The names a Jinja template reads, and the attribute chains it reads from `tower`."""
    environment = ImmutableSandboxedEnvironment()
    tree = environment.parse(template)
    getattrs = list(tree.find_all(nodes.Getattr))
    inner = {id(node.node) for node in getattrs}
    tower_chains = []
    for node in getattrs:
        if id(node) in inner:
            continue  # part of a longer chain
        chain = []
        current = node
        while isinstance(current, nodes.Getattr):
            chain.insert(0, current.attr)
            current = current.node
        if isinstance(current, nodes.Name) and current.name == "tower":
            tower_chains.append(tuple(chain))
    return meta.find_undeclared_variables(tree), tower_chains


def all_templates():
    """(where, template) for every injector template."""
    injectors = credential_type()["injectors"]
    for kind in ("file", "env", "extra_vars"):
        for key, template in injectors.get(kind, {}).items():
            yield f"{kind}.{key}", template


class _Namespace:
    """An object whose attributes are the keyword arguments, like AWX's `tower` namespace."""

    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def render_as_awx(inputs):
    """The extra_vars AWX passes to the job for a credential with `inputs`, and the file paths it wrote.

    Mirrors CredentialType.inject_credential: empty strings are left out of the namespace,
    missing booleans are False, and each file template gets a path under tower.filename.
    """
    namespace = {}
    for field in fields():
        value = inputs.get(field["id"])
        if field["type"] == "boolean":
            namespace[field["id"]] = bool(value)
        elif value:
            namespace[field["id"]] = value
    environment = ImmutableSandboxedEnvironment()
    paths = {name: f"/runner/env/tmp_{name}" for name in file_names()}
    for template in credential_type()["injectors"].get("file", {}).values():
        environment.from_string(template).render(**namespace)
    namespace["tower"] = _Namespace(filename=_Namespace(**paths))
    rendered = {name: environment.from_string(template).render(**namespace) for name, template in extra_vars().items()}
    return rendered, paths


# ---------------------------------------------------------------------------------------------
# The credential type, as AWX's CredentialTypeInputField / CredentialTypeInjectorField check it
# ---------------------------------------------------------------------------------------------


def test_credential_type_inputs_follow_the_awx_schema():
    definition = credential_type()
    assert set(definition) <= {"name", "description", "kind", "inputs", "injectors"}
    assert definition["kind"] == "cloud", "only cloud (or net) credential types can be created"
    assert set(definition["inputs"]) <= {"fields", "required"}
    seen = set()
    for field in fields():
        where = field.get("id")
        assert set(field) <= FIELD_KEYS, f"{where}: unknown keys {set(field) - FIELD_KEYS}"
        assert isinstance(field.get("label"), str) and field["label"], f"{where}: a label is required"
        assert VARIABLE_NAME.match(field["id"]) and field["id"] != "tower", f"{where}: invalid input id"
        assert field["id"] not in seen, f"{where}: duplicated input id"
        seen.add(field["id"])
        assert field.get("type") in ("string", "boolean"), f"{where}: type must be string or boolean"
        if field["type"] == "boolean":
            assert not set(field) & {"choices", "multiline", "format", "secret"}, f"{where}: not allowed on a boolean"
        if "default" in field:
            assert isinstance(field["default"], {"string": str, "boolean": bool}[field["type"]]), f"{where}: default type"
        assert field.get("format") in (None, "url", "ssh_private_key"), f"{where}: unknown format"
    required = definition["inputs"].get("required", [])
    assert set(required) <= field_ids(), f"required names undeclared inputs: {set(required) - field_ids()}"


def test_injectors_follow_the_awx_schema():
    injectors = credential_type()["injectors"]
    assert set(injectors) <= {"file", "env", "extra_vars"}
    for key in injectors.get("file", {}):
        assert FILE_TEMPLATE.match(key), f"file injector {key!r}: use the multi-file syntax template.<name>"
    for key in injectors.get("env", {}):
        assert VARIABLE_NAME.match(key) and not key.startswith("ANSIBLE_"), f"env injector {key!r} is not allowed"
    for kind in ("file", "env", "extra_vars"):
        for key, value in injectors.get(kind, {}).items():
            assert isinstance(value, str), f"{kind}.{key}: AWX accepts only string values"
    for key in injectors["extra_vars"]:
        assert VARIABLE_NAME.match(key), f"extra_vars.{key} is not a variable name"


def test_injector_templates_use_only_declared_inputs_and_files():
    declared = field_ids()
    for where, template in all_templates():
        names, tower_chains = template_inputs(template)
        unknown = names - declared - {"tower"}
        assert not unknown, f"{where} reads undeclared inputs {sorted(unknown)}"
        if "tower" in names:
            assert tower_chains, f"{where} reads the tower namespace itself"
        for chain in tower_chains:
            assert len(chain) == 2 and chain[0] == "filename", f"{where} reads tower.{'.'.join(chain)}"
            assert chain[1] in file_names(), f"{where} reads tower.filename.{chain[1]}, which no file injector writes"


def test_injector_templates_render_as_awx_validates_them():
    """AWX renders every template with StrictUndefined and every input set to a sample value."""
    namespace = {field_id: "EXAMPLE" for field_id in field_ids()}
    namespace["tower"] = _Namespace(filename=_Namespace(**{name: "EXAMPLE_FILENAME" for name in file_names()}))
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for where, template in all_templates():
        try:
            environment.from_string(template).render(namespace)
        except UndefinedError as error:
            pytest.fail(f"{where} uses an undefined field ({error})")


def test_injected_values_for_a_full_and_a_minimal_credential():
    full = {field["id"]: (False if field["type"] == "boolean" else f"value-of-{field['id']}") for field in fields()}
    rendered, paths = render_as_awx(full)
    assert all(isinstance(value, str) for value in rendered.values())
    assert rendered["migrate_source_api_key"] == "value-of-source_token"
    assert rendered["migrate_destination_api_key"] == "value-of-destination_token"
    assert rendered["migrate_source_ca_cert"] == paths["source_ca_cert"]
    assert rendered["migrate_destination_ca_cert"] == paths["destination_ca_cert"]
    assert rendered["migrate_source_validate_certs"] == "True"
    assert rendered["migrate_location_secret_key"] == "value-of-location_secret_key"

    minimal = {field_id: full[field_id] for field_id in credential_type()["inputs"]["required"]}
    rendered, _paths = render_as_awx(minimal)
    # A credential saved without the boolean still verifies certificates (AWX makes it False).
    assert rendered["migrate_source_validate_certs"] == "True"
    assert rendered["rollback_destination_validate_certs"] == "True"
    # No CA certificate: no path, so the role uses the system CAs instead of an empty file.
    assert rendered["migrate_source_ca_cert"] == ""
    assert rendered["rollback_destination_ca_cert"] == ""
    assert rendered["migrate_registry_password"] == ""

    insecure = dict(full, source_insecure_skip_tls_verify=True)
    rendered, _paths = render_as_awx(insecure)
    assert rendered["migrate_source_validate_certs"] == "False"
    assert rendered["rollback_source_validate_certs"] == "False"
    assert rendered["migrate_destination_validate_certs"] == "True"


def test_secret_inputs_are_exactly_the_token_password_and_secret_key_fields():
    expected = {field["id"] for field in fields() if field["id"].endswith(SECRET_INPUT_SUFFIXES)}
    assert expected, "the credential type declares no token, password or secret key"
    assert secret_ids() == expected


def test_secrets_reach_only_secret_variables():
    """A secret input goes only into a variable the roles treat as a secret, and never into a file."""
    for where, template in all_templates():
        names, _chains = template_inputs(template)
        secrets = names & secret_ids()
        kind, _dot, variable = where.partition(".")
        if kind != "extra_vars":
            assert not secrets, f"{where} writes the secrets {sorted(secrets)}"
            continue
        if variable.endswith(SECRET_VARIABLE_SUFFIXES):
            assert names and names <= secret_ids(), f"{where} is a secret variable fed from {sorted(names)}"
        else:
            assert not secrets, f"{where} is not a secret variable but receives {sorted(secrets)}"


# ---------------------------------------------------------------------------------------------
# Surveys, as AWX's JobTemplateSurveySpec checks them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("survey_name", ["migrate", "rollback"])
def test_survey_follows_the_awx_survey_spec(survey_name):
    survey = surveys()[survey_name]
    assert isinstance(survey.get("name"), str) and isinstance(survey.get("description"), str)
    assert isinstance(survey.get("spec"), list) and survey["spec"], "'spec' must list the questions"
    variables = set()
    for question in survey["spec"]:
        where = f"{survey_name} survey, {question.get('variable')}"
        for key in ("question_name", "type", "variable"):
            assert isinstance(question.get(key), str) and question[key], f"{where}: {key} must be a string"
        assert isinstance(question.get("required"), bool), f"{where}: required must be a boolean"
        assert question["variable"].startswith(f"{survey_name}_"), f"{where}: variable of another role"
        assert question["variable"] not in variables, f"{where}: duplicated variable"
        variables.add(question["variable"])
        assert question["type"] in SURVEY_TYPES, f"{where}: unknown question type"
        for key in ("min", "max"):
            assert question.get(key) is None or isinstance(question[key], int), f"{where}: {key} must be an integer"
        default = question.get("default", "")
        if default != "":
            assert isinstance(default, SURVEY_TYPES[question["type"]]), f"{where}: default of the wrong type"
        if question["type"] in ("multiplechoice", "multiselect"):
            choices = question.get("choices")
            assert isinstance(choices, list) and choices, f"{where}: choices must be a list"
            assert default == "" or default in choices, f"{where}: default is not one of the choices"
        if question["type"] in ("text", "textarea", "password"):
            low, high = question.get("min") or 0, question.get("max")
            assert high is None or low <= high, f"{where}: min above max"
            if default != "":
                assert low <= len(default) and (high is None or len(default) <= high), f"{where}: default length"
            if question["required"]:
                assert low >= 1, f"{where}: a required text question needs min >= 1"


@pytest.mark.parametrize("survey_name", ["migrate", "rollback"])
def test_survey_questions_fit_the_role_options(survey_name):
    options = options_for(f"{survey_name}_")
    for question in surveys()[survey_name]["spec"]:
        where = f"{survey_name} survey, {question['variable']}"
        option = options.get(question["variable"])
        assert option is not None, f"{where} is not an option of role {survey_name}"
        option_type = option.get("type", "str")
        assert question["type"] in SURVEY_TYPES_FOR_OPTION.get(option_type, ()), (
            f"{where}: a {question['type']} question cannot carry a {option_type} option")
        if option.get("choices") and question["type"] == "multiplechoice":
            assert set(question["choices"]) <= {str(choice) for choice in option["choices"]}, f"{where}: choices"
        if option_type == "bool" and question["type"] == "multiplechoice":
            assert set(question["choices"]) <= {"true", "false"}, f"{where}: choices"
        if "default" in option and question.get("default", "") != "":
            if isinstance(option["default"], dict):
                assert json.loads(question["default"]) == option["default"], f"{where}: default differs from the role's"
            else:
                assert question["default"] == str(option["default"]), f"{where}: default differs from the role's"


def test_migrate_type_choices_match_the_argument_spec():
    option = options_for("migrate_")["migrate_type"]
    question = next(q for q in surveys()["migrate"]["spec"] if q["variable"] == "migrate_type")
    assert question["type"] == "multiplechoice"
    assert question["choices"] == list(option["choices"])
    assert question["default"] == option["default"]


# ---------------------------------------------------------------------------------------------
# Every variable belongs to a role, and the roles' required options are all given
# ---------------------------------------------------------------------------------------------


def test_every_variable_belongs_to_the_migrate_or_the_rollback_role():
    stray = {name for name in variables_set() if not name.startswith(("migrate_", "rollback_"))}
    assert not stray, f"variables of no role: {sorted(stray)}"


@pytest.mark.parametrize("prefix", ["migrate_", "rollback_"])
def test_variables_are_options_of_their_role(prefix):
    options = options_for(prefix)
    unknown = {name for name in variables_set() if name.startswith(prefix)} - set(options)
    assert not unknown, f"not options of the role that reads {prefix}*: {sorted(unknown)}"


@pytest.mark.parametrize("prefix,survey_name", [("migrate_", "migrate"), ("rollback_", "rollback")])
def test_required_role_options_are_given_by_the_survey_or_the_credential(prefix, survey_name):
    options = options_for(prefix)
    asked = {q["variable"] for q in surveys()[survey_name]["spec"] if q["required"]}
    required_inputs = set(credential_type()["inputs"].get("required", []))
    injected = set()
    for name, template in extra_vars().items():
        names, _chains = template_inputs(template)
        if names and names <= required_inputs:
            injected.add(name)
    for name, option in options.items():
        if option.get("required") and "default" not in option:
            assert name in asked | injected, (
                f"{name} is required by the role and neither a required survey question nor set from a required input")


def test_the_credential_sets_both_roles_connections():
    names = set(extra_vars())
    for side in ("source", "destination"):
        for suffix in ("host", "api_key", "ca_cert", "validate_certs"):
            assert f"migrate_{side}_{suffix}" in names
            assert f"rollback_{side}_{suffix}" in names
            assert extra_vars()[f"migrate_{side}_{suffix}"] == extra_vars()[f"rollback_{side}_{suffix}"]


# ---------------------------------------------------------------------------------------------
# The playbook that creates all of it
# ---------------------------------------------------------------------------------------------


def test_job_templates_playbook_uses_the_awx_modules_and_the_definition_files():
    play = job_templates_play()
    modules = set()
    for task in play["tasks"]:
        modules.update(key for key in task if "." in key)
    assert AWX_MODULES <= modules, f"missing modules: {sorted(AWX_MODULES - modules)}"
    assert all(module.startswith(("awx.awx.", "ansible.builtin.")) for module in modules)
    text = (AWX / "job-templates.yml").read_text(encoding="utf-8")
    for name in ("credential-type-migration.yml", "survey-migrate.json", "survey-rollback.json"):
        assert f"'{name}'" in text, f"job-templates.yml does not load {name}"
        assert (AWX / name).is_file()
    assert play["vars"]["awx_credential_type"] == credential_type()["name"]


def test_job_templates_playbook_fills_every_credential_input_and_hides_them():
    task = next(task for task in job_templates_play()["tasks"] if "awx.awx.credential" in task)
    assert task.get("no_log") is True
    assert set(task["awx.awx.credential"]["inputs"]) == field_ids()


def test_job_templates_are_stage_final_and_rollback():
    task = job_template_task()
    arguments = task["awx.awx.job_template"]
    assert arguments["survey_enabled"] is True
    assert arguments["credentials"] == ["{{ awx_credential }}"], "one credential carries every connection"
    items = {item["name"]: item for item in task["loop"]}
    assert [item["playbook"] for item in items.values()] == ["migrate.yml", "migrate.yml", "rollback.yml"]
    stage, final, rollback = items.values()
    assert "'stage'" in stage["survey_spec"] and "migrate_survey" in stage["survey_spec"]
    assert "'final'" in final["survey_spec"] and "migrate_survey" in final["survey_spec"]
    assert rollback["survey_spec"] == "{{ rollback_survey }}"
