//! Validation of a declared stack, before anything else happens: names, references,
//! bindings, cycles and every type's own input checks.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use thiserror::Error;

use crate::model::{InputIssue, ResourceView, StackSpec};

/// One reason a declared stack cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DeclarationError {
    /// Two resources share a logical name.
    #[error(
        "resource name `{name}` is declared twice ({first_type} and {second_type}): \
         give one of them another name"
    )]
    DuplicateName {
        /// The repeated name.
        name: String,
        /// The type of the first declaration.
        first_type: String,
        /// The type of the second declaration.
        second_type: String,
    },
    /// A reference or `depends_on` names a resource the program does not declare.
    #[error(
        "resource `{resource}` property `{property}` refers to `{target}`, which the program \
         does not declare: declare `{target}` or correct the reference"
    )]
    DanglingReference {
        /// The resource holding the reference.
        resource: String,
        /// The property holding it (`depends_on` for explicit dependencies).
        property: String,
        /// The missing resource's name.
        target: String,
    },
    /// A reference names an output its target does not have.
    #[error(
        "resource `{resource}` property `{property}` reads output `{output}` of `{target}` \
         ({target_type}), which has no such output: use one of {available}"
    )]
    UnknownOutput {
        /// The resource holding the reference.
        resource: String,
        /// The property holding it.
        property: String,
        /// The referenced resource.
        target: String,
        /// Its type.
        target_type: String,
        /// The output asked for.
        output: String,
        /// The outputs and inputs it does have.
        available: String,
    },
    /// A resource names a provider binding the stack does not define.
    #[error(
        "resource `{resource}` uses provider binding `{binding}`, which the stack does not \
         define: add the binding to the stack config or correct the name"
    )]
    UnknownBinding {
        /// The resource.
        resource: String,
        /// The missing binding.
        binding: String,
    },
    /// References form a cycle.
    #[error(
        "dependency cycle: {}: a resource cannot depend on itself, even through others; \
         remove one of these references",
        members.join(" -> ")
    )]
    Cycle {
        /// The resources on the cycle in order, the first repeated at the end.
        members: Vec<String>,
    },
    /// A `moved` mapping that cannot be followed.
    #[error("moved from `{from}` to `{to}`: {problem}; fix: {fix}")]
    InvalidMove {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
        /// What is wrong.
        problem: String,
        /// What to do.
        fix: String,
    },
    /// A type's own validation rejected an input.
    #[error(
        "resource `{resource}` ({type_token}) property `{}`: {}; fix: {}",
        issue.property, issue.problem, issue.fix
    )]
    InvalidInput {
        /// The resource.
        resource: String,
        /// Its type.
        type_token: String,
        /// What is wrong.
        issue: InputIssue,
    },
}

/// Every problem found in a declared stack.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct DeclarationErrors(pub Vec<DeclarationError>);

impl fmt::Display for DeclarationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(f, "the program declares {count} problem(s); nothing was changed:")?;
        for error in &self.0 {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

/// A validated stack's dependency graph: resources by index, in declaration order.
#[derive(Debug)]
pub struct DependencyGraph {
    /// For each resource, the indices of the resources it depends on.
    pub dependencies: Vec<Vec<usize>>,
    /// Resource indices in an order where every dependency comes first; deterministic.
    pub order: Vec<usize>,
}

/// Validates `stack` and builds its graph. Collects every problem rather than the first.
pub fn validate(stack: &StackSpec) -> Result<DependencyGraph, DeclarationErrors> {
    let mut errors = Vec::new();
    let index = name_index(stack, &mut errors);
    check_bindings(stack, &mut errors);
    let dependencies = resolve_dependencies(stack, &index, &mut errors);
    check_inputs(stack, &mut errors);
    check_moves(stack, &index, &mut errors);
    if !errors.is_empty() {
        return Err(DeclarationErrors(errors));
    }
    let order = topological_order(stack, &dependencies)?;
    Ok(DependencyGraph { dependencies, order })
}

fn name_index<'a>(
    stack: &'a StackSpec,
    errors: &mut Vec<DeclarationError>,
) -> HashMap<&'a str, usize> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(stack.resources.len());
    for (position, resource) in stack.resources.iter().enumerate() {
        if let Some(&first) = index.get(resource.name.as_str()) {
            errors.push(DeclarationError::DuplicateName {
                name: resource.name.clone(),
                first_type: stack.resources[first].schema.type_token.to_owned(),
                second_type: resource.schema.type_token.to_owned(),
            });
        } else {
            index.insert(&resource.name, position);
        }
    }
    index
}

/// Every move goes from a name the program no longer declares to one it does, and no name
/// is moved twice.
fn check_moves(
    stack: &StackSpec,
    index: &HashMap<&str, usize>,
    errors: &mut Vec<DeclarationError>,
) {
    let mut seen: HashSet<&str> = HashSet::new();
    for moved in &stack.moves {
        let invalid = |problem: String, fix: &str| DeclarationError::InvalidMove {
            from: moved.from.clone(),
            to: moved.to.clone(),
            problem,
            fix: fix.to_owned(),
        };
        if !index.contains_key(moved.to.as_str()) {
            errors.push(invalid(
                format!("the program declares no resource `{}`", moved.to),
                "move to the name the resource is declared under now",
            ));
        }
        if index.contains_key(moved.from.as_str()) {
            errors.push(invalid(
                format!("the program still declares `{}`", moved.from),
                "move from the name the resource had before, which nothing declares now",
            ));
        }
        for name in [moved.from.as_str(), moved.to.as_str()] {
            if !seen.insert(name) {
                errors.push(invalid(
                    format!("`{name}` is in more than one move"),
                    "give each name at most one move; chain renames as old -> newest",
                ));
            }
        }
    }
}

fn check_bindings(stack: &StackSpec, errors: &mut Vec<DeclarationError>) {
    for resource in &stack.resources {
        if !stack.bindings.contains_key(&resource.binding) {
            errors.push(DeclarationError::UnknownBinding {
                resource: resource.name.clone(),
                binding: resource.binding.clone(),
            });
        }
    }
}

fn resolve_dependencies(
    stack: &StackSpec,
    index: &HashMap<&str, usize>,
    errors: &mut Vec<DeclarationError>,
) -> Vec<Vec<usize>> {
    stack
        .resources
        .iter()
        .map(|resource| {
            let mut found = Vec::new();
            for (property, input) in &resource.inputs {
                input.for_each_ref(&mut |reference| match index.get(reference.resource.as_str()) {
                    Some(&target) => {
                        errors.extend(check_output(
                            stack,
                            target,
                            resource,
                            property,
                            &reference.output,
                        ));
                        found.push(target);
                    }
                    None => errors.push(dangling(&resource.name, property, &reference.resource)),
                });
            }
            for target in &resource.options.depends_on {
                match index.get(target.as_str()) {
                    Some(&position) => found.push(position),
                    None => errors.push(dangling(&resource.name, "depends_on", target)),
                }
            }
            dedup_keep_order(found)
        })
        .collect()
}

fn dangling(resource: &str, property: &str, target: &str) -> DeclarationError {
    DeclarationError::DanglingReference {
        resource: resource.to_owned(),
        property: property.to_owned(),
        target: target.to_owned(),
    }
}

fn check_output(
    stack: &StackSpec,
    target: usize,
    holder: &crate::model::Resource,
    property: &str,
    output: &str,
) -> Option<DeclarationError> {
    let target = &stack.resources[target];
    if target.schema.outputs.contains(&output) || target.inputs.contains_key(output) {
        return None;
    }
    let mut available: Vec<&str> = target.schema.outputs.to_vec();
    available.extend(target.inputs.keys().map(String::as_str));
    Some(DeclarationError::UnknownOutput {
        resource: holder.name.clone(),
        property: property.to_owned(),
        target: target.name.clone(),
        target_type: target.schema.type_token.to_owned(),
        output: output.to_owned(),
        available: available.join(", "),
    })
}

fn dedup_keep_order(mut items: Vec<usize>) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(items.len());
    items.retain(|item| seen.insert(*item));
    items
}

fn check_inputs(stack: &StackSpec, errors: &mut Vec<DeclarationError>) {
    for resource in &stack.resources {
        let view = ResourceView { resource, stack };
        for issue in (resource.schema.validate)(&view) {
            errors.push(DeclarationError::InvalidInput {
                resource: resource.name.clone(),
                type_token: resource.schema.type_token.to_owned(),
                issue,
            });
        }
    }
}

fn topological_order(
    stack: &StackSpec,
    dependencies: &[Vec<usize>],
) -> Result<Vec<usize>, DeclarationErrors> {
    match declaration_order_toposort(dependencies) {
        Some(order) => Ok(order),
        None => Err(DeclarationErrors(cycles(stack, &dependency_digraph(dependencies)))),
    }
}

/// Kahn's algorithm, always taking the earliest-declared ready resource: every dependency
/// comes first, and otherwise the program's own order is kept. `None` when there is a cycle.
pub(crate) fn declaration_order_toposort(dependencies: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); dependencies.len()];
    let mut waiting: Vec<usize> = dependencies.iter().map(Vec::len).collect();
    for (dependent, needs) in dependencies.iter().enumerate() {
        for &dependency in needs {
            dependents[dependency].push(dependent);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..dependencies.len()).filter(|&node| waiting[node] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(dependencies.len());
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for &next in &dependents[node] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    (order.len() == dependencies.len()).then_some(order)
}

/// The graph with an edge from each dependency to its dependent.
pub(crate) fn dependency_digraph(dependencies: &[Vec<usize>]) -> DiGraph<(), ()> {
    let mut graph = DiGraph::with_capacity(dependencies.len(), dependencies.len() * 2);
    for _ in dependencies {
        graph.add_node(());
    }
    for (dependent, needs) in dependencies.iter().enumerate() {
        for &dependency in needs {
            graph.add_edge(NodeIndex::new(dependency), NodeIndex::new(dependent), ());
        }
    }
    graph
}

fn cycles(stack: &StackSpec, graph: &DiGraph<(), ()>) -> Vec<DeclarationError> {
    let mut found: Vec<Vec<usize>> = tarjan_scc(graph)
        .into_iter()
        .filter(|component| component.len() > 1 || graph.contains_edge(component[0], component[0]))
        .map(|component| cycle_path(graph, &component))
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|path| DeclarationError::Cycle {
            members: path.iter().map(|&node| stack.resources[node].name.clone()).collect(),
        })
        .collect()
}

/// The shortest cycle through a strongly connected component's first-declared member, as a
/// closed walk: `[a, b, c, a]`.
fn cycle_path(graph: &DiGraph<(), ()>, component: &[NodeIndex]) -> Vec<usize> {
    let start = component.iter().copied().min().unwrap_or_default();
    let members: HashSet<NodeIndex> = component.iter().copied().collect();
    let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        let mut successors: Vec<NodeIndex> =
            graph.neighbors(current).filter(|next| members.contains(next)).collect();
        successors.sort();
        if successors.contains(&start) {
            let mut path = vec![start];
            let mut walk = current;
            while walk != start {
                path.push(walk);
                walk = parent[&walk];
            }
            path.push(start);
            path.reverse();
            return path.into_iter().map(NodeIndex::index).collect();
        }
        for next in successors {
            if next != start && !parent.contains_key(&next) {
                parent.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    vec![start.index(), start.index()]
}
