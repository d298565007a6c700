// PosixEnv and the WAL on the real file system, in a scratch directory removed afterwards.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "storage/file.h"
#include "storage/wal_format.h"
#include "storage/wal_testing.h"

namespace podium::storage {
namespace {

class WalPosixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "podium-wal-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  PosixEnv env_;
  std::string dir_;
};

TEST_F(WalPosixTest, FilesAppendSyncReadTruncateAndList) {
  const std::string path = JoinPath(dir_, "a");
  Result<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  EXPECT_EQ((*file)->size(), 11u);
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(env_.SyncDir(dir_).ok());

  Result<std::unique_ptr<WritableFile>> again = env_.NewAppendableFile(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 11u);
  ASSERT_TRUE((*again)->Append("!").ok());
  ASSERT_TRUE((*again)->Close().ok());

  Result<std::unique_ptr<RandomAccessFile>> random = env_.NewRandomAccessFile(path);
  ASSERT_TRUE(random.ok());
  std::string bytes;
  ASSERT_TRUE((*random)->Read(6, 100, &bytes).ok());
  EXPECT_EQ(bytes, "world!");
  Result<std::unique_ptr<SequentialFile>> sequential = env_.NewSequentialFile(path);
  ASSERT_TRUE(sequential.ok());
  ASSERT_TRUE((*sequential)->Read(5, &bytes).ok());
  EXPECT_EQ(bytes, "hello");

  ASSERT_TRUE(env_.Truncate(path, 5).ok());
  EXPECT_EQ(*env_.FileSize(path), 5u);
  ASSERT_TRUE(env_.RenameFile(path, JoinPath(dir_, "b")).ok());
  EXPECT_EQ(*env_.GetChildren(dir_), std::vector<std::string>{"b"});
  ASSERT_TRUE(env_.RemoveFile(JoinPath(dir_, "b")).ok());
  EXPECT_TRUE(env_.GetChildren(dir_)->empty());
}

TEST_F(WalPosixTest, ErrorsNameTheFile) {
  const std::string missing = JoinPath(dir_, "missing");
  Result<std::unique_ptr<SequentialFile>> file = env_.NewSequentialFile(missing);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kIoError);
  EXPECT_NE(file.status().message().find(missing), std::string::npos);
  EXPECT_EQ(env_.FileSize(missing).status().code(), StatusCode::kIoError);
  ASSERT_TRUE(env_.CreateDir(JoinPath(dir_, "sub")).ok());
  ASSERT_TRUE(env_.CreateDir(JoinPath(dir_, "sub")).ok()) << "an existing directory is fine";
}

TEST_F(WalPosixTest, WalRoundTripAndTornTailOnDisk) {
  const std::vector<WalRecord> written = testing::WriteLog(&env_, dir_, 1, 100, 1000);
  const std::vector<std::string> names = *env_.GetChildren(dir_);
  EXPECT_GT(names.size(), 3u);
  testing::ReadOutcome read = testing::ReadLog(&env_, dir_);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records, written);

  // Tear the last record by hand: the reader reports it and TruncateWal cuts it on disk.
  std::string last = *std::max_element(names.begin(), names.end());
  const uint64_t size = *env_.FileSize(JoinPath(dir_, last));
  ASSERT_TRUE(env_.Truncate(JoinPath(dir_, last), size - 1).ok());
  read = testing::ReadLog(&env_, dir_);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.records.size(), written.size() - 1);
  ASSERT_EQ(read.tail.kind, WalTail::Kind::kTornWrite);
  ASSERT_TRUE(TruncateWal(&env_, dir_, read.tail).ok());
  EXPECT_EQ(*env_.FileSize(JoinPath(dir_, last)), read.tail.offset);
  read = testing::ReadLog(&env_, dir_);
  EXPECT_TRUE(read.status.ok());
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
}

TEST_F(WalPosixTest, ReserveWritesZerosPastTheAppendsAndTruncateCutsThem) {
  const std::string path = JoinPath(dir_, "a");
  Result<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("head").ok());
  ASSERT_TRUE((*file)->Reserve(100'000).ok());
  EXPECT_EQ((*file)->size(), 4u) << "a reserve is not content";
  EXPECT_EQ(*env_.FileSize(path), 100'004u);
  ASSERT_TRUE((*file)->Append("tail").ok());  // written over the reserve, not after it
  ASSERT_TRUE((*file)->Reserve(10).ok());     // already there: nothing written
  EXPECT_EQ(*env_.FileSize(path), 100'004u);
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());

  Result<std::unique_ptr<RandomAccessFile>> random = env_.NewRandomAccessFile(path);
  ASSERT_TRUE(random.ok());
  std::string bytes;
  ASSERT_TRUE((*random)->Read(0, 200'000, &bytes).ok());
  ASSERT_EQ(bytes.size(), 100'004u);
  EXPECT_EQ(bytes.substr(0, 8), "headtail");
  EXPECT_EQ(bytes.find_first_not_of('\0', 8), std::string::npos);
  ASSERT_TRUE(env_.Truncate(path, 8).ok());
  EXPECT_EQ(*env_.FileSize(path), 8u);
}

TEST_F(WalPosixTest, OpenSegmentReadsCleanWithItsReserve) {
  Result<std::unique_ptr<WalWriter>> writer = WalWriter::Open(&env_, dir_, 1);
  ASSERT_TRUE(writer.ok());
  const std::string path = JoinPath(dir_, (*writer)->segment_name());
  ASSERT_TRUE((*writer)->Append(3, "three").ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  EXPECT_EQ(*env_.FileSize(path), kWalSegmentHeaderBytes + kWalReserveBytes);
  // What a reader sees after a crash here (the writer still open).
  testing::ReadOutcome read = testing::ReadLog(&env_, dir_);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  ASSERT_EQ(read.records.size(), 1u);
  EXPECT_EQ(read.records[0].payload, "three");
  EXPECT_EQ(read.tail.kind, WalTail::Kind::kClean);
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(*env_.FileSize(path), kWalSegmentHeaderBytes + kWalRecordHeaderBytes + 5);
}

}  // namespace
}  // namespace podium::storage
