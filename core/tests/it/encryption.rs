//! A phone's store encrypted at rest (feature `encryption`): the file and its photos hold no
//! plaintext, a wrong key is a clear error that changes nothing, re-keying works, and a wipe
//! leaves no photo behind.

use std::path::{Path, PathBuf};

use fieldsales_core::attachments::Attachments;
use fieldsales_core::record::Customer;
use fieldsales_core::rule::RuleCode;
use fieldsales_core::store::{Store, StoreKey, StoreRead};
use fieldsales_core::{Error, RecordId, testing};

const NAME: &str = "上海明珠精密仪器有限公司";

fn key(byte: u8) -> StoreKey {
    StoreKey::from_bytes(&[byte; 32]).unwrap()
}

/// The bytes of the store's file and its WAL, whatever is on the disk.
fn file_bytes(path: &Path) -> Vec<Vec<u8>> {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::read(PathBuf::from(name)).unwrap_or_default()
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A store with a customer in it, closed: its path and the customer.
fn seeded(dir: &Path, key: &StoreKey) -> (PathBuf, RecordId) {
    let path = dir.join("rep.sqlite");
    let mut store = Store::open_encrypted(&path, key).unwrap();
    let owner = RecordId::new();
    let customer = store.create(testing::customer(owner, NAME)).unwrap();
    (path, customer.header.id)
}

#[test]
fn the_file_holds_no_plaintext_and_opens_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, id) = seeded(dir.path(), &key(1));
    for bytes in file_bytes(&path) {
        assert!(
            !contains(&bytes, NAME.as_bytes()),
            "the name is not in the file"
        );
        assert!(
            !contains(&bytes, b"SQLite format 3"),
            "no SQLite header in clear"
        );
    }
    let store = Store::open_encrypted(&path, &key(1)).unwrap();
    assert!(store.is_encrypted());
    let customer: Customer = store.get(id).unwrap();
    assert_eq!(customer.legal_name, NAME);
    assert!(store.check_consistency().unwrap().is_consistent());
}

#[test]
fn a_wrong_key_or_none_is_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, id) = seeded(dir.path(), &key(1));
    let before = file_bytes(&path);
    assert!(matches!(
        Store::open_encrypted(&path, &key(2)),
        Err(Error::WrongKey)
    ));
    assert!(matches!(Store::open(&path), Err(Error::WrongKey)));
    assert_eq!(file_bytes(&path), before, "the files are as they were");
    let store = Store::open_encrypted(&path, &key(1)).unwrap();
    assert_eq!(store.get::<Customer>(id).unwrap().legal_name, NAME);

    // A key for a plain store is refused the same way, and the plain store is untouched.
    let plain = dir.path().join("plain.sqlite");
    let mut store = Store::open(&plain).unwrap();
    let c = store
        .create(testing::customer(RecordId::new(), NAME))
        .unwrap();
    drop(store);
    let before = file_bytes(&plain);
    assert!(matches!(
        Store::open_encrypted(&plain, &key(1)),
        Err(Error::WrongKey)
    ));
    assert_eq!(file_bytes(&plain), before);
    let store = Store::open(&plain).unwrap();
    assert!(!store.is_encrypted());
    assert_eq!(store.get::<Customer>(c.header.id).unwrap().legal_name, NAME);
}

#[test]
fn rekeying_moves_the_store_to_the_new_key_and_keeps_the_photos() {
    let dir = tempfile::tempdir().unwrap();
    let (path, id) = seeded(dir.path(), &key(1));
    let mut store = Store::open_encrypted(&path, &key(1)).unwrap();
    let photo = vec![0x5a; 200_000];
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    let a = files.put(&mut store, &photo, "image/jpeg").unwrap();
    store.rekey(&key(3)).unwrap();
    // Written after the re-key, read after a reopen.
    let later = store
        .create(testing::customer(RecordId::new(), "杭州后来科技有限公司"))
        .unwrap();
    drop(store);
    assert!(matches!(
        Store::open_encrypted(&path, &key(1)),
        Err(Error::WrongKey)
    ));
    let store = Store::open_encrypted(&path, &key(3)).unwrap();
    assert_eq!(store.get::<Customer>(id).unwrap().legal_name, NAME);
    assert!(store.get::<Customer>(later.header.id).is_ok());
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    assert_eq!(files.get(&a.sha256).unwrap(), Some(photo));

    // A plain store has no key to change.
    let mut plain = Store::open(dir.path().join("plain.sqlite")).unwrap();
    assert!(matches!(
        plain.rekey(&key(4)),
        Err(Error::InvalidInput { field: "key", .. })
    ));
}

#[test]
fn photos_are_sealed_read_back_whole_and_a_damaged_one_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = seeded(dir.path(), &key(1));
    let mut store = Store::open_encrypted(&path, &key(1)).unwrap();
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    assert!(files.is_sealed());
    // Three records and a piece: 200,000 bytes a camera might write.
    let photo: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let a = files.put(&mut store, &photo, "image/jpeg").unwrap();
    let on_disk = std::fs::read(files.path_of(&a.sha256).unwrap()).unwrap();
    assert!(
        !contains(&on_disk, &photo[1000..1064]),
        "no run of the photo in clear"
    );
    assert_eq!(files.get(&a.sha256).unwrap().as_deref(), Some(&photo[..]));

    // The same photo from the camera's file is the same content, kept once.
    let source = dir.path().join("camera.jpg");
    std::fs::write(&source, &photo).unwrap();
    let b = files.put_file(&mut store, &source, "image/jpeg").unwrap();
    assert_eq!(b.sha256, a.sha256);
    assert_eq!(files.get(&b.sha256).unwrap().as_deref(), Some(&photo[..]));

    // Another store's key does not open it: the copy counts as damaged and goes.
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _) = seeded(other_dir.path(), &key(1));
    let other = Store::open_encrypted(&other, &key(1)).unwrap();
    let theirs = Attachments::beside(&other, 1 << 20).unwrap();
    let copied = theirs.path_of(&a.sha256).unwrap();
    std::fs::create_dir_all(copied.parent().unwrap()).unwrap();
    std::fs::write(&copied, &on_disk).unwrap();
    assert!(matches!(
        theirs.get(&a.sha256),
        Err(Error::RuleViolated {
            rule: RuleCode::AttachmentDamaged,
            ..
        })
    ));
    assert!(!copied.exists());

    // A flipped bit in our own copy: damaged, removed.
    let mut flipped = on_disk.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 1;
    std::fs::write(files.path_of(&a.sha256).unwrap(), &flipped).unwrap();
    assert!(matches!(
        files.get(&a.sha256),
        Err(Error::RuleViolated {
            rule: RuleCode::AttachmentDamaged,
            ..
        })
    ));
    assert!(!files.has(&a.sha256).unwrap());
}

#[test]
fn a_wipe_deletes_the_photos_and_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, id) = seeded(dir.path(), &key(1));
    let mut store = Store::open_encrypted(&path, &key(1)).unwrap();
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    let a = files.put(&mut store, b"shelf photo", "image/jpeg").unwrap();
    let sealed = std::fs::read(files.path_of(&a.sha256).unwrap()).unwrap();
    store.wipe().unwrap();
    assert!(!files.has(&a.sha256).unwrap(), "the photo is gone");
    assert!(store.get::<Customer>(id).is_err(), "the records are gone");
    // A copy that escaped the wipe does not open under the store's new photo key.
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    let copied = files.path_of(&a.sha256).unwrap();
    std::fs::create_dir_all(copied.parent().unwrap()).unwrap();
    std::fs::write(&copied, &sealed).unwrap();
    assert!(files.get(&a.sha256).is_err());
    // The wiped store still works.
    let b = files.put(&mut store, b"new photo", "image/jpeg").unwrap();
    assert_eq!(
        files.get(&b.sha256).unwrap().as_deref(),
        Some(&b"new photo"[..])
    );
}

#[test]
fn a_plain_store_is_encrypted_in_place_with_its_photos() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rep.sqlite");
    let mut store = Store::open(&path).unwrap();
    let id = store
        .create(testing::customer(RecordId::new(), NAME))
        .unwrap()
        .header
        .id;
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    assert!(!files.is_sealed());
    let photo: Vec<u8> = (0..150_000u32).map(|i| (i % 241) as u8).collect();
    let a = files.put(&mut store, &photo, "image/jpeg").unwrap();
    let pending = store.pending().unwrap();
    drop(store);

    Store::encrypt_plain(&path, &key(5)).unwrap();
    for bytes in file_bytes(&path) {
        assert!(!contains(&bytes, NAME.as_bytes()), "no name left in clear");
    }
    let on_disk = std::fs::read(files.path_of(&a.sha256).unwrap()).unwrap();
    assert!(
        !contains(&on_disk, &photo[2_000..2_064]),
        "the photo is sealed"
    );
    assert!(matches!(Store::open(&path), Err(Error::WrongKey)));
    assert!(matches!(
        Store::encrypt_plain(&path, &key(5)),
        Err(Error::WrongKey)
    ));
    let store = Store::open_encrypted(&path, &key(5)).unwrap();
    assert_eq!(store.get::<Customer>(id).unwrap().legal_name, NAME);
    assert_eq!(store.pending().unwrap(), pending, "the outbox is kept");
    assert!(store.check_consistency().unwrap().is_consistent());
    let files = Attachments::beside(&store, 1 << 20).unwrap();
    assert_eq!(files.get(&a.sha256).unwrap(), Some(photo.clone()));

    // A photo still plain in a sealed folder (the sealing cut short) reads as before.
    let plain_copy = files.path_of(&a.sha256).unwrap();
    std::fs::write(&plain_copy, &photo).unwrap();
    assert_eq!(files.get(&a.sha256).unwrap(), Some(photo));
}
