"""Une correction à laquelle l'enseignant peut se fier : préprocesseurs nbgrader du cours.

nbgrader exécute le code de l'étudiant dans le même noyau que les tests : un étudiant
qui peut exécuter du code peut, en principe, tout détourner. Le cours empile donc des
protections prises **hors du noyau** (dans le processus de correction), chacune simple :

1. :class:`RebuildFromSource` : la copie corrigée est le notebook **de l'enseignant**
   (cellules de tests, cellule de paramètres, démonstrations, dans son ordre), où seul le
   contenu des cellules de réponse vient de l'étudiant. Une cellule de tests vidée,
   supprimée, déplacée ou modifiée, un ``SMOKE = True`` ajouté : rien de cela n'est
   exécuté. Une cellule ajoutée par l'étudiant non plus (règle énoncée dans chaque notebook).
2. :class:`ScanTampering` : chaque cellule de réponse est lue (arbre syntaxique) avant
   l'exécution ; celles qui redéfinissent un nom du notebook ou de Python, modifient un
   module, touchent à l'interpréteur ou au noyau, ou terminent le processus sont
   **neutralisées** (remplacées par une erreur qui dit pourquoi) et signalées.
3. :class:`InjectSentinels` / :class:`CheckSentinels` : chaque cellule de tests se termine
   par l'affichage d'un jeton aléatoire tiré à chaque correction ; une cellule dont le
   jeton n'apparaît pas (erreur avalée, exécution détournée) vaut 0.
4. :class:`ResilientExecute` : une cellule qui tue le noyau (``os._exit``, mémoire) ou le
   bloque au-delà de l'interruption est neutralisée, puis le notebook est réexécuté : les
   autres exercices gardent leurs points et la correction de la classe continue.
5. :class:`SummarizeErrors` (retours) : une cellule de tests en échec ne montre que le
   message français de la vérification, jamais le code des tests cachés.

Les tests cachés relient en outre leurs fonctions de vérification à
:mod:`labkit.hidden_checks` (messages sans valeur attendue) au début de chaque bloc caché,
et les vérifications refusent les objets définis par l'étudiant (``__eq__`` truqué).

Ce qui reste possible est dit dans la page « Enseigner avec ce cours » : du code assez
retors pour échapper à la lecture de l'arbre syntaxique (il n'en existe pas de connu ici,
la liste des constructions refusées est large) ; c'est pourquoi les anomalies sont
signalées dans le tableau de correction pour une relecture humaine.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import secrets
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, List, Unicode

#: Les vérifications des tests (visibles et cachés) : un nom réservé.
CHECK_HELPERS = ("check", "check_type", "check_equal", "check_close", "check_at_least", "check_at_most")

#: Modules dont l'import, dans une cellule de réponse, sert à détourner l'exécution.
FORBIDDEN_MODULES = (
    "builtins", "importlib", "ctypes", "gc", "inspect", "IPython", "ipykernel", "signal", "faulthandler",
    "atexit", "threading", "_thread", "multiprocessing", "sys", "nbgrader", "labkit.course",
    "labkit.checks", "labkit.hidden_checks", "code", "codeop", "types", "marshal", "pickle", "subprocess", "pty",
)

#: Fonctions de Python refusées dans une cellule de réponse (appelées par leur nom).
FORBIDDEN_BUILTIN_CALLS = ("exec", "eval", "compile", "globals", "vars", "locals", "setattr", "delattr", "__import__",
                           "breakpoint", "exit", "quit", "get_ipython")

#: Méthodes refusées quel que soit l'objet : terminer le processus, tracer l'interpréteur, toucher au noyau.
FORBIDDEN_METHODS = ("_exit", "exit", "kill", "killpg", "abort", "system", "popen", "fork", "execv", "execve", "spawnv",
                     "settrace", "setprofile", "putenv", "unsetenv", "set_custom_exc", "showtraceback",
                     "register_magic_function", "redirect_stdout", "redirect_stderr", "setrecursionlimit")

#: Attributs dont la seule mention, dans une cellule de réponse, est refusée.
FORBIDDEN_ATTRIBUTES = ("__code__", "__globals__", "__builtins__", "__dict__", "__subclasses__", "__closure__",
                        "__defaults__", "__kwdefaults__", "__bases__", "__mro__", "__class__", "__func__", "__self__",
                        "__loader__", "__spec__", "__import__", "f_globals", "f_locals", "f_back", "tb_frame",
                        "gi_frame", "cr_frame", "environ", "excepthook", "displayhook", "stdout", "stderr",
                        "input_transformers_post", "input_transformers_cleanup", "events", "__setattr__", "__delattr__")

#: Fonctions de Python dont le résultat est traité comme un module : on ne modifie pas ce qu'elles renvoient
#: (``b = type(objet); b.seuil = 0`` changerait la classe pour tout le notebook, tests cachés compris).
TAINTING_CALLS = ("getattr", "type")

#: Commandes magiques permises dans une cellule de réponse (mesurer un temps, afficher des figures).
ALLOWED_MAGICS = ("%time", "%timeit", "%%time", "%%timeit", "%matplotlib")

_NEUTRALIZED = (
    "raise RuntimeError({message!r})  # cellule neutralisée par la correction"
)


# --------------------------------------------------------------------------- lecture d'une cellule de réponse


def _strip_magics(source: str) -> tuple[str, list[str]]:
    """Remplace les lignes magiques permises par ``pass`` ; renvoie le code et les lignes refusées."""
    lines, refused = [], []
    for line in source.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or stripped.endswith("?"):
            if stripped.split(maxsplit=1)[0] in ALLOWED_MAGICS:
                lines.append(line[: len(line) - len(stripped)] + "pass")
                continue
            refused.append(stripped.split(maxsplit=1)[0] if stripped else stripped)
            lines.append(line[: len(line) - len(stripped)] + "pass")
            continue
        lines.append(line)
    return "\n".join(lines), refused


class _Scanner(ast.NodeVisitor):
    """Parcourt l'arbre d'une cellule et note chaque construction refusée (en français)."""

    def __init__(self, protected: set[str], imports: dict[str, str]):
        self.protected = protected
        self.imports = imports  # nom lié -> ce qu'il importe, dans les cellules de l'enseignant
        self.modules = set(imports)  # noms liés à un module ou à un objet importé
        self.problems: list[str] = []

    def flag(self, node: ast.AST, reason: str) -> None:
        line = getattr(node, "lineno", "?")
        self.problems.append(f"ligne {line} : {reason}")

    # -- liaisons de noms
    def _bind(self, node: ast.AST, name: str) -> None:
        if name in self.protected:
            self.flag(node, f"le nom « {name} » appartient au notebook ou à Python : ne le redéfinissez pas")

    def _bind_target(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self._bind(target, target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_target(element)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _root(target)
            if isinstance(target, ast.Attribute) and target.attr.startswith("__"):
                self.flag(target, f"modification de « {target.attr} » : une méthode spéciale ne se remplace pas ici")
            elif root is None:
                self.flag(target, "modification d'un objet obtenu par un appel (getattr…) : interdit")
            elif root in self.modules or root.startswith("__"):
                self.flag(target, f"modification de « {root} », un module ou un objet importé : interdit")

    def visit_Assign(self, node):
        for target in node.targets:
            self._bind_target(target)
        self._taint(node.targets, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._bind_target(node.target)
        if node.value is not None:
            self._taint([node.target], node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._bind_target(node.target)
        self.generic_visit(node)

    def visit_NamedExpr(self, node):
        self._bind_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._bind(target, target.id)
            else:
                self._bind_target(target)
        self.generic_visit(node)

    def visit_For(self, node):
        self._bind_target(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node):
        self._bind_target(node.target)
        self.generic_visit(node)

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_FunctionDef(self, node):
        self._bind(node, node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._bind(node, node.name)
        self.generic_visit(node)

    def visit_Global(self, node):
        for name in node.names:
            self._bind(node, name)

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node):
        if node.name:
            self._bind(node, node.name)
        caught = node.type
        names = [caught] if caught is None or not isinstance(caught, ast.Tuple) else caught.elts
        for name in names:
            if name is None:
                self.flag(node, "« except: » sans type attrape aussi l'interruption de la correction : nommez l'exception")
            elif isinstance(name, ast.Name) and name.id in ("BaseException", "KeyboardInterrupt", "SystemExit"):
                self.flag(node, f"attraper {name.id} empêche d'interrompre une cellule : interdit")
        self.generic_visit(node)

    def visit_TryStar(self, node):
        self.generic_visit(node)

    # -- imports
    def _import(self, node, module: str, bound: str) -> None:
        if any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES):
            self.flag(node, f"import de « {module} » : interdit dans une cellule de réponse")
        # Réimporter ce que le notebook importe déjà, sous le même nom, ne change rien : permis.
        if bound in self.protected and self.imports.get(bound) != module:
            self._bind(node, bound)
        self.modules.add(bound)

    def visit_Import(self, node):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self._import(node, alias.name if alias.asname else bound, bound)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, f"« from {module} import * » peut écraser les noms du notebook : importez des noms précis")
                continue
            self._import(node, f"{module}.{alias.name}", alias.asname or alias.name)
        self.generic_visit(node)

    # -- appels et attributs
    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_BUILTIN_CALLS:
            self.flag(node, f"appel de « {node.func.id}() » : interdit dans une cellule de réponse")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in FORBIDDEN_METHODS:
            self.flag(node, f"appel de « .{node.func.attr}() » : interdit dans une cellule de réponse")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self.flag(node, f"accès à « .{node.attr} » : interdit dans une cellule de réponse")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in ("__builtins__", "__import__", "__loader__", "__spec__", "get_ipython", "In", "Out", "_ih", "_oh", "_ii", "_iii"):
            self.flag(node, f"usage de « {node.id} » : interdit dans une cellule de réponse")
        self.generic_visit(node)

    # -- alias d'un module : « m = np » puis « m.x = … »
    def _taint(self, targets, value) -> None:
        root = _root(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
        tainting = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in TAINTING_CALLS
        if tainting or (root is not None and root in self.modules):
            for target in targets:
                if isinstance(target, ast.Name):
                    self.modules.add(target.id)


def _root(node: ast.AST) -> str | None:
    """Le nom au bout d'une chaîne ``a.b[c].d`` ; ``None`` si la chaîne part d'un appel ou d'une expression."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan_answer(source: str, protected=(), imports=None) -> list[str]:
    """Les raisons (en français) de refuser le code ``source`` d'une cellule de réponse ; liste vide s'il est sain.

    ``protected`` : noms que la cellule ne doit pas redéfinir (ceux du notebook ; les
    fonctions de Python et les vérifications sont toujours protégées). ``imports`` :
    ``{nom: ce qu'il importe}`` pour les imports du notebook, que la cellule ne doit ni
    modifier ni lier à autre chose (voir :func:`notebook_names`).

    >>> scan_answer("def f(x):\\n    return 2 * x")
    []
    >>> scan_answer("check = lambda *a, **k: None")
    ["ligne 1 : le nom « check » appartient au notebook ou à Python : ne le redéfinissez pas"]
    >>> scan_answer("np.testing.assert_allclose = print", imports={"np": "numpy"})
    ['ligne 1 : modification de « np », un module ou un objet importé : interdit']
    """
    code, refused = _strip_magics(source)
    problems = [f"commande « {magic} » : les commandes magiques et le shell sont interdits dans une cellule de réponse"
                for magic in refused]
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return problems  # une erreur de syntaxe n'est pas une fraude : l'exécution la signalera
    scanner = _Scanner(set(protected) | set(CHECK_HELPERS) | _PROTECTED_BUILTINS, dict(imports or {}))
    scanner.visit(tree)
    return problems + scanner.problems


_PROTECTED_BUILTINS = {name for name in dir(builtins) if not name.startswith("_")} - {"copyright", "credits", "license", "help"}


def notebook_names(cells) -> tuple[set[str], dict[str, str]]:
    """Ce que les cellules de l'enseignant définissent : ``(noms protégés, {nom importé: module})``.

    Sont protégés : les noms importés, les fonctions et classes définies au premier
    niveau, les constantes en capitales (``EPOCHS``, ``MIN_GAIN``…) et ``ctx``. Les
    cellules de réponse sont exclues de la lecture (elles définissent ce que l'exercice
    demande), comme les noms « privés » des tests cachés (``_x``…).
    """
    protected, imports = {"ctx", "SMOKE"}, {}
    for cell in cells:
        if cell.cell_type != "code" or _is_answer(cell):
            continue
        code, _ = _strip_magics(cell.source)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in _module_level(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    imports[bound] = alias.name if alias.asname else bound
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                for alias in node.names:
                    if alias.name != "*":
                        imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                protected.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                protected.update(t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper())
    protected |= set(imports)
    return {name for name in protected if not name.startswith("_")}, imports


def _module_level(statements):
    """Les instructions du niveau du module, blocs ``if``/``for``/``with``/``try`` compris (pas les fonctions)."""
    for node in statements:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if children and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from _module_level(children)


def _is_answer(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("solution")) and not meta.get("locked", False)


def _is_tests(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def neutralized_source(reasons: list[str]) -> str:
    """Le code qui remplace une cellule refusée : une erreur qui dit pourquoi."""
    message = "Cellule neutralisée par la correction : " + " ; ".join(reasons)
    return _NEUTRALIZED.format(message=message)


# --------------------------------------------------------------------------- préprocesseurs nbgrader


def _course_directory(preprocessor):
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=preprocessor.config)


def _anomalies(resources) -> list:
    return resources.setdefault("labkit_anomalies", [])


def _record_anomalies(notebook: NotebookNode, new: list[dict]) -> None:
    notebook.metadata.setdefault("labkit", {}).setdefault("anomalies", []).extend(new)


class RebuildFromSource(NbGraderPreprocessor):
    """Reconstruit la copie à corriger : le notebook de l'enseignant, avec les réponses de l'étudiant.

    Pour chaque cellule de la source (``source/<devoir>/<notebook>.ipynb``) : une cellule
    de réponse prend le code de la cellule de même ``grade_id`` dans le rendu (ou le
    squelette de la version étudiante si l'étudiant l'a supprimée) ; toute autre
    cellule est celle de l'enseignant, tests cachés compris.
    """

    def preprocess(self, nb, resources):
        coursedir = _course_directory(self)
        info = resources["nbgrader"]
        name = f"{info['notebook']}.ipynb"
        source_path = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"])) / name
        release_path = Path(coursedir.format_path(coursedir.release_directory, ".", info["assignment"])) / name
        source = nbformat.read(source_path, as_version=4)
        release = nbformat.read(release_path, as_version=4) if release_path.is_file() else None
        submitted = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells
                     if cell.metadata.get("nbgrader", {}).get("grade_id")}
        released = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in (release.cells if release else [])
                    if cell.metadata.get("nbgrader", {}).get("grade_id")}
        rebuilt = []
        for cell in source.cells:
            cell = copy.deepcopy(cell)
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            # Le rôle d'une cellule vient de la source, jamais des métadonnées du rendu (modifiables).
            answer = _is_answer(cell)
            teacher = released.get(grade_id)
            if teacher is not None and teacher.cell_type == cell.cell_type:
                cell.metadata["nbgrader"] = copy.deepcopy(teacher.metadata["nbgrader"])  # sommes de contrôle
            if answer:
                given = submitted.get(grade_id, teacher)
                cell.source = given.source if given is not None and given.cell_type == cell.cell_type else ""
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            rebuilt.append(cell)
        nb.cells = rebuilt
        return nb, resources


class ScanTampering(NbGraderPreprocessor):
    """Neutralise les cellules de réponse qui détournent la correction (voir :func:`scan_answer`)."""

    def preprocess(self, nb, resources):
        protected, imports = notebook_names(nb.cells)
        found = []
        for cell in nb.cells:
            if cell.cell_type != "code" or not _is_answer(cell):
                continue
            reasons = scan_answer(cell.source, protected, imports)
            if reasons:
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                found.append({"cellule": grade_id, "type": "tentative de détournement", "détail": " ; ".join(reasons)})
                cell.source = neutralized_source(reasons)
        _anomalies(resources).extend(found)
        _record_anomalies(nb, found)
        return nb, resources


class InjectSentinels(NbGraderPreprocessor):
    """Ajoute à chaque cellule de tests l'affichage d'un jeton aléatoire, tiré à chaque correction."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if _is_tests(cell):
                token = "labkit-" + secrets.token_hex(16)
                cell.metadata["labkit_sentinel"] = token
                cell.source = cell.source.rstrip("\n") + f"\nprint({token!r})"
        return nb, resources


class CheckSentinels(NbGraderPreprocessor):
    """Une cellule de tests dont le jeton n'est pas apparu a échoué ; le jeton est ensuite effacé."""

    message = Unicode(
        "La cellule de tests n'a pas terminé normalement (exécution interrompue ou détournée) : 0 point.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            token = cell.metadata.pop("labkit_sentinel", None)
            if token is None:
                continue
            suffix = f"\nprint({token!r})"
            if cell.source.endswith(suffix):
                cell.source = cell.source[: -len(suffix)]
            seen = False
            for output in cell.outputs:
                if output.output_type == "stream" and token in output.text:
                    seen = True
                    output.text = output.text.replace(token + "\n", "").replace(token, "")
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and not o.text)]
            failed = any(o.output_type == "error" for o in cell.outputs)
            if not seen and not failed:
                cell.outputs.append(nbformat.v4.new_output("error", ename="CorrectionError", evalue=self.message,
                                                           traceback=[f"CorrectionError: {self.message}"]))
                found = {"cellule": cell.metadata["nbgrader"]["grade_id"], "type": "tests non terminés",
                         "détail": self.message}
                _anomalies(resources).append(found)
                _record_anomalies(nb, [found])
        return nb, resources


class _KernelLost(Exception):
    """Le noyau est mort ou ne répond plus après une interruption, pendant la cellule ``index``."""

    def __init__(self, index: int, reason: str):
        super().__init__(reason)
        self.index, self.reason = index, reason


class ResilientExecute(Execute):
    """L'exécution de nbgrader, qui survit à une cellule qui tue ou bloque le noyau.

    Une cellule qui tue le noyau (``os._exit``, manque de mémoire) ou qui le laisse
    bloqué après l'interruption du délai est remplacée par une erreur, puis le notebook
    est réexécuté depuis le début, au plus ``max_restarts`` fois.
    """

    max_restarts = Integer(3, help="Nombre maximal de réexécutions après la perte du noyau.").tag(config=True)
    unblock_seconds = Integer(15, help="Attente d'un noyau interrompu avant de le déclarer bloqué.").tag(config=True)
    # Historique en mémoire : des noyaux corrigés en parallèle ne se disputent pas le même fichier SQLite.
    extra_arguments = List(["--HistoryManager.hist_file=:memory:"]).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        original = copy.deepcopy(nb)
        neutralized: dict[int, str] = {}
        for _attempt in range(self.max_restarts + 1):
            attempt = copy.deepcopy(original)
            for index, reason in neutralized.items():
                attempt.cells[index].source = neutralized_source([reason])
            self._current_index = None
            try:
                result_nb, result_resources = super().preprocess(attempt, resources, km=km)
            except _KernelLost as lost:
                neutralized[lost.index] = lost.reason
                continue
            except Exception as error:  # DeadKernelError et compagnie, levés par nbclient
                if self._current_index is None or type(error).__name__ not in ("DeadKernelError", "CellTimeoutError", "RuntimeError"):
                    raise
                neutralized[self._current_index] = f"le noyau s'est arrêté pendant cette cellule ({type(error).__name__})"
                continue
            found = []
            for index, reason in neutralized.items():
                cell = result_nb.cells[index]
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cellule {index}")
                found.append({"cellule": grade_id, "type": "noyau perdu", "détail": reason})
            if found:
                _anomalies(result_resources).extend(found)
                _record_anomalies(result_nb, found)
            return result_nb, result_resources
        raise RuntimeError("La copie fait perdre le noyau à chaque exécution : correction abandonnée pour ce rendu.")

    def preprocess_cell(self, cell, resources, index):
        self._current_index = index
        return super().preprocess_cell(cell, resources, index)

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await super()._async_handle_timeout(timeout, cell)
        if not await self._responds_after_interrupt():
            raise _KernelLost(self._current_index, f"la cellule dépasse {timeout} s et ignore l'interruption")
        if cell is not None and self._current_index is not None:
            found = {"cellule": cell.metadata.get("nbgrader", {}).get("grade_id", f"cellule {self._current_index}"),
                     "type": "délai dépassé", "détail": f"interrompue après {timeout} s"}
            _record_anomalies(self.nb, [found])
        return reply

    async def _responds_after_interrupt(self) -> bool:
        """Vrai si le noyau exécute encore une cellule vide dans les ``unblock_seconds`` secondes."""
        import asyncio
        from queue import Empty

        msg_id = self.kc.execute("pass", silent=True, store_history=False)
        deadline = asyncio.get_event_loop().time() + self.unblock_seconds
        while True:
            remaining = deadline - asyncio.get_event_loop().time()
            if remaining <= 0:
                return False
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=remaining)
            except (Empty, TimeoutError):
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True


class SummarizeErrors(NbGraderPreprocessor):
    """Retours aux étudiants : une cellule de tests en échec ne montre que le message de l'erreur.

    La trace d'une erreur montrerait les lignes des tests cachés : elle est remplacée par
    ``Type : message`` (le message français des vérifications du cours).
    """

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if not _is_tests(cell):
                continue
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return nb, resources


def anomalies_of(notebook_path: Path) -> list[dict]:
    """Les anomalies notées par la correction dans un notebook corrigé (``autograded/…``)."""
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("labkit", {}).get("anomalies", [])
