//! Profiles (issue 23): list, show, use, rm, rename; which profile a
//! command uses (--profile, KEYLESS_PROFILE, a per-directory file, the
//! active profile, default) and what auth status and -v say about it; an
//! unknown name lists the known ones; logout of a profile never signed in.

use crate::common::*;

/// An env with profiles "default" and "work", both on a file source.
fn two_profiles() -> (TestEnv, Sandbox) {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let jwt = env.path("id.jwt");
    std::fs::write(&jwt, sb.mint_jwt(&[])).unwrap();
    let id = format!("file:{}", jwt.display());
    env.setup(&sb.url, &id);
    env.run_with(
        &setup_anthropic_args(&[
            "--profile",
            "work",
            "--base-url",
            &sb.url,
            "--service-account-id",
            SA,
            "--identity",
            &id,
        ]),
        |_| {},
    )
    .success();
    (env, sb)
}

fn status_profile(env: &TestEnv, f: impl FnOnce(&mut std::process::Command)) -> serde_json::Value {
    let r = env.run_with(&["auth", "status", "--json"], f);
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    v["keyless"].clone()
}

#[test]
fn precedence_flag_variable_directory_file_active_default() {
    let (env, _sb) = two_profiles();
    let k = status_profile(&env, |_| {});
    assert_eq!(
        (k["profile"].as_str(), k["profile_rule"].as_str()),
        (Some("default"), Some("default"))
    );

    env.run(&["profile", "use", "work"]).success();
    let k = status_profile(&env, |_| {});
    assert_eq!(
        (k["profile"].as_str(), k["profile_rule"].as_str()),
        (Some("work"), Some("active"))
    );
    assert_eq!(
        k["profile_file"].as_str().unwrap(),
        env.config_dir().join("config.json").to_str().unwrap()
    );

    // a per-directory file, found from a subdirectory, outranks the active profile
    let project = env.home().join("project/sub");
    std::fs::create_dir_all(&project).unwrap();
    let file = env.home().join("project/.keyless-profile");
    std::fs::write(&file, "default\n").unwrap();
    let k = status_profile(&env, |c| {
        c.current_dir(&project);
    });
    assert_eq!(
        (k["profile"].as_str(), k["profile_rule"].as_str()),
        (Some("default"), Some("directory"))
    );
    assert_eq!(k["profile_file"].as_str().unwrap(), file.to_str().unwrap());
    // -v says which rule chose it, and the file
    let r = env.run_with(&["-v", "profile", "show"], |c| {
        c.current_dir(&project);
    });
    r.success();
    assert!(r.stderr.contains(file.to_str().unwrap()), "{}", r.stderr);

    // the variable outranks the file, the flag outranks the variable
    let k = status_profile(&env, |c| {
        c.current_dir(&project).env("KEYLESS_PROFILE", "work");
    });
    assert_eq!(k["profile_rule"].as_str(), Some("env"));
    let r = env.run_with(&["--profile", "default", "auth", "status", "--json"], |c| {
        c.current_dir(&project).env("KEYLESS_PROFILE", "work");
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["keyless"]["profile_rule"].as_str(), Some("flag"));
    assert_eq!(v["keyless"]["profile"].as_str(), Some("default"));
}

#[test]
fn the_per_directory_file_stops_at_home_and_only_names_known_profiles() {
    let (env, _sb) = two_profiles();
    // above home: not looked at
    std::fs::write(env.root.path().join(".keyless-profile"), "work\n").unwrap();
    let k = status_profile(&env, |c| {
        c.current_dir(env.home());
    });
    assert_eq!(k["profile_rule"].as_str(), Some("default"));
    // a name that is not a profile is an error naming the file and the known ones
    std::fs::write(env.home().join(".keyless-profile"), "nosuch\n").unwrap();
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.current_dir(env.home());
    });
    r.fails(6, "no profile named \"nosuch\"");
    assert!(
        r.stderr.contains(".keyless-profile") && r.stderr.contains("default, work"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

/// Outside the home directory (a checkout in /srv, /tmp, a CI workspace)
/// the walk stops at the top of the user's own tree: a directory another
/// account owns ends it, so a `.keyless-profile` there or above (even
/// root's, which would choose for every user below it) is not read. Within
/// the user's own directories it is found as under home.
#[test]
fn outside_home_the_walk_stops_where_the_users_own_directories_end() {
    // Another account's directory is needed: chown needs root.
    // SAFETY: geteuid has no preconditions.
    if !require_tool("root (to give a directory to another account)", unsafe {
        libc::geteuid() == 0
    }) {
        return;
    }
    let (env, _sb) = two_profiles();
    let outside = tempfile::Builder::new()
        .prefix("keyless-outside-")
        .tempdir()
        .unwrap();
    let shared = outside.path().join("shared");
    let mine = shared.join("mine/sub");
    std::fs::create_dir_all(&mine).unwrap();
    std::os::unix::fs::chown(&shared, Some(65534), Some(65534)).unwrap();
    // a file of root's (trusted by owner and mode) in a directory that is not the user's
    std::fs::write(shared.join(".keyless-profile"), "work\n").unwrap();
    let k = status_profile(&env, |c| {
        c.current_dir(&mine);
    });
    assert_eq!(
        (k["profile_rule"].as_str(), k["profile_file"].as_str()),
        (Some("default"), None),
        "{k}"
    );
    // In the user's own directory it counts.
    let own = shared.join("mine/.keyless-profile");
    std::fs::write(&own, "work\n").unwrap();
    let k = status_profile(&env, |c| {
        c.current_dir(&mine);
    });
    assert_eq!(
        (k["profile_rule"].as_str(), k["profile_file"].as_str()),
        (Some("directory"), own.to_str()),
    );
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let (env, _sb) = two_profiles();
    for args in [
        &["--profile", "nosuch", "credential", "anthropic"][..],
        &["--profile", "nosuch", "auth", "status"],
        &["--profile", "nosuch", "exec", "--", "true"],
        &["profile", "use", "nosuch"],
        &["profile", "show", "nosuch"],
    ] {
        let r = env.run(args);
        r.fails(6, "known profiles: default, work");
        assert!(
            r.stderr.contains("keyless profile list"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn list_show_rm_and_rename() {
    let (env, _sb) = two_profiles();
    env.run(&["--profile", "work", "credential", "anthropic"])
        .success();
    let r = env.run(&["profile", "list", "--json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "work"]);
    assert!(v[1]["providers"][0]["token_expires_at"].is_i64(), "{v}");
    assert!(v[0]["providers"][0]["token_expires_at"].is_null(), "{v}");
    assert!(
        v[0]["providers"][0]["identity"]
            .as_str()
            .unwrap()
            .starts_with("file:")
    );
    let r = env.run(&["profile", "list"]);
    r.success();
    assert!(
        r.stdout.starts_with("* default") && r.stdout.contains("work  anthropic: file:"),
        "{}",
        r.stdout
    );

    let r = env.run(&["profile", "show", "work"]);
    r.success();
    assert!(
        r.stdout.contains(RULE) && r.stdout.contains("named on the command line"),
        "{}",
        r.stdout
    );

    // rm asks; without a terminal it needs --yes
    env.run(&["profile", "rm", "work"]).fails(2, "--yes");
    let before = cache_files(&env.cache_dir()).len();
    env.run(&["profile", "use", "work"]).success();
    let r = env.run(&["profile", "rm", "work", "--yes"]);
    r.success();
    assert!(!r.stderr.contains("keyring"), "{}", r.stderr);
    assert_eq!(
        cache_files(&env.cache_dir()).len(),
        before - 1,
        "its cached token went"
    );
    let cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.config_dir().join("config.json")).unwrap(),
    )
    .unwrap();
    assert!(
        cfg["profiles"].get("work").is_none() && cfg.get("active_profile").is_none(),
        "{cfg}"
    );

    env.run(&["profile", "rename", "default", "main"]).success();
    let r = env.run(&["profile", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["name"], "main");
}

#[test]
fn logout_of_a_profile_never_signed_in_says_so_without_a_keyring_warning() {
    let (env, _sb) = two_profiles();
    let r = env.run(&["--profile", "work", "logout"]);
    r.success();
    assert!(r.stderr.contains("is not signed in"), "{}", r.stderr);
    assert!(
        !r.stderr.to_lowercase().contains("keyring") && !r.stderr.contains("warning"),
        "{}",
        r.stderr
    );
}

/// A profile name is written into helper command lines (`setup
/// claude-code`'s apiKeyHelper, Codex's auth command) as the argument after
/// `--profile`: one that starts with `-` would be read there as a flag. Such
/// a name, from `--profile=` or a repository's `.keyless-profile`, is
/// refused before anything is created.
#[test]
fn a_profile_name_that_starts_with_a_dash_is_refused() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let r = env.run(&setup_anthropic_args(&[
        "--profile=-q",
        "--base-url",
        &sb.url,
        "--identity",
        "env",
    ]));
    r.fails(2, "invalid profile name \"-q\"");
    assert!(!env.config_dir().join("config.json").exists());
    let dir = env.path("repo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".keyless-profile"), "--config-dir\n").unwrap();
    let r = env.run_with(&["profile", "show"], |c| {
        c.current_dir(&dir);
    });
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("invalid profile name"), "{}", r.stderr);
}

/// A repository's directory names are outside text: a name carrying a
/// terminal escape reaches stderr (in the per-directory file's error and
/// `-v` lines) only as a visible replacement character.
#[test]
fn a_hostile_directory_name_is_scrubbed_before_the_terminal() {
    let (env, _sb) = two_profiles();
    let dir = env.path("repo\u{1b}]0;owned\u{7}");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".keyless-profile"), "nosuch\n").unwrap();
    let r = env.run_with(&["-v", "profile", "show"], |c| {
        c.current_dir(&dir);
    });
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("per-directory file"), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    std::fs::write(dir.join(".keyless-profile"), "\n").unwrap();
    let r = env.run_with(&["profile", "show"], |c| {
        c.current_dir(&dir);
    });
    assert!(r.stderr.contains("names no profile"), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
}

/// `profile rm` asks on a terminal (a real pty, from util-linux's
/// `script`): "n" keeps the profile, "y" removes it with its served-token
/// records (`credential --helper-ttl` notes); an unknown NAME of rm or
/// rename lists the known ones.
#[test]
fn rm_asks_on_a_terminal_and_takes_the_served_records() {
    let (env, _sb) = two_profiles();
    env.run(&[
        "--profile",
        "work",
        "credential",
        "anthropic",
        "--helper-ttl",
        "300",
    ])
    .success();
    let served = || -> Vec<String> {
        std::fs::read_dir(env.cache_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".served"))
            .collect()
    };
    assert_eq!(served().len(), 1, "credential --helper-ttl noted its token");
    let on_a_terminal = |answer: &str| {
        let mut c = env.external("script");
        c.args([
            "-q",
            "-e",
            "-c",
            &format!("'{BIN}' profile rm work"),
            "/dev/null",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        Run::from(crate::common::output_with_stdin(&mut c, answer.as_bytes()))
    };
    let r = on_a_terminal("n\n");
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Remove profile \"work\"") && r.stdout.contains("nothing removed"),
        "{}",
        r.stdout
    );
    assert_eq!(
        env.run(&["profile", "list", "--names"]).stdout,
        "default\nwork\n"
    );
    let r = on_a_terminal("y\n");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(env.run(&["profile", "list", "--names"]).stdout, "default\n");
    assert_eq!(served(), Vec::<String>::new(), "its served records went");
    for args in [
        &["profile", "rm", "nosuch", "--yes"][..],
        &["profile", "rename", "nosuch", "other"],
    ] {
        env.run(args).fails(6, "known profiles: default");
    }
}
